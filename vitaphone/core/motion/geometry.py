"""The agreed scale between MotionTrack channel values and face geometry.

The motion planner produces unitless channel values; the renderer turns them into vertex
displacements. Both sides import these constants so that "brow_raise = 1" means the same
thing everywhere, and so that emotion offsets measured on real faces (MEAD clips, in
inter-ocular units) can be turned into channel values by a division.

Length unit: **IOD**, the inter-ocular distance (distance between the two eye centres, i.e.
the means of each eye's contour landmarks) of the face in its rest pose, measured in the
image plane. Displacements are "up"/"down" along the face's own vertical axis (eye line
rotated by 90 degrees), positive up unless said otherwise.

A channel at value v displaces its feature by ``v * scale`` (linear). Channels that describe a
relative change (eye opening) give the fractional change per unit instead of IOD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["iod", "fraction", "deg"]


@dataclass(frozen=True, slots=True)
class ChannelGeometry:
    """How one channel moves the face: `feature` moves by `value * scale` `unit`s."""

    channel: str
    feature: str
    scale: float
    unit: Unit
    note: str = ""


# --- mouth (MOUTH_CHANNELS) -------------------------------------------------------------------
JAW_OPEN_IOD = 0.35  # jaw_open=1: lower-lip centre drops 0.35 IOD (jaw rotates; chin ~0.32)
LIP_SPREAD_IOD = 0.12  # lip_spread=1: mouth width +0.12 IOD (each corner 0.06 out); -1 narrows
LIP_ROUND_WIDTH_IOD = 0.16  # lip_round=1: mouth width -0.16 IOD ...
LIP_ROUND_PROTRUDE_IOD = 0.08  # ... and lips pushed forward (towards the camera) by 0.08 IOD
LIP_CLOSE_FRACTION = 1.0  # lip_close=1: inner-lip gap closed completely, whatever the jaw does
LOWER_LIP_TUCK_IOD = 0.07  # lower_lip_tuck=1: lower lip up and back 0.07 IOD, under upper teeth
UPPER_LIP_RAISE_IOD = 0.06  # upper_lip_raise=1: upper-lip centre up 0.06 IOD (teeth show)

# --- face (FACE_CHANNELS) ---------------------------------------------------------------------
MOUTH_CORNER_IOD = 0.06  # mouth_corner=1: both corners up 0.06 IOD (-1: down 0.06)
MOUTH_CORNER_ASYM_IOD = 0.06  # mouth_corner_asym=1: left corner lift minus right = 0.06 IOD
BROW_RAISE_IOD = 0.08  # brow_raise=1: whole brows up 0.08 IOD (-1: down)
BROW_INNER_RAISE_IOD = 0.06  # brow_inner_raise=1: inner brow ends up 0.06 IOD (outer fixed)
BROW_FURROW_IOD = 0.04  # brow_furrow=1: inner brows 0.04 IOD towards the midline and 0.04 down
EYE_OPEN_FRACTION = 0.40  # eye_open=1: lid aperture +40 % (-1: -40 %, a squint)
EYE_APERTURE_REST_IOD = 0.14  # typical open-eye lid aperture (upper to lower lid) at rest
CHEEK_RAISE_IOD = 0.05  # cheek_raise=1: cheeks and lower lids up 0.05 IOD
NOSE_WRINKLE_IOD = 0.04  # nose_wrinkle=1: nose wings and sides up 0.04 IOD
BLINK_FRACTION = 1.0  # blink_*=1: lid aperture 0 (closed)

# --- head and gaze (HEAD_CHANNELS) ------------------------------------------------------------
GAZE_TRAVEL_IOD = 0.10  # gaze_x/gaze_y=1: iris moves 0.10 IOD (most of its travel)

CHANNEL_GEOMETRY: dict[str, ChannelGeometry] = {
    g.channel: g
    for g in (
        ChannelGeometry("jaw_open", "lower_lip_drop", JAW_OPEN_IOD, "iod"),
        ChannelGeometry("lip_spread", "mouth_width", LIP_SPREAD_IOD, "iod"),
        ChannelGeometry("lip_round", "mouth_width", -LIP_ROUND_WIDTH_IOD, "iod",
                        "also protrudes the lips by LIP_ROUND_PROTRUDE_IOD"),
        ChannelGeometry("lip_close", "inner_lip_gap", -LIP_CLOSE_FRACTION, "fraction",
                        "fraction of the current lip gap removed"),
        ChannelGeometry("lower_lip_tuck", "lower_lip_up", LOWER_LIP_TUCK_IOD, "iod"),
        ChannelGeometry("upper_lip_raise", "upper_lip_up", UPPER_LIP_RAISE_IOD, "iod"),
        ChannelGeometry("mouth_corner", "mouth_corner_height", MOUTH_CORNER_IOD, "iod"),
        ChannelGeometry("mouth_corner_asym", "mouth_corner_asym", MOUTH_CORNER_ASYM_IOD, "iod"),
        ChannelGeometry("brow_raise", "brow_height", BROW_RAISE_IOD, "iod"),
        ChannelGeometry("brow_inner_raise", "inner_brow_height", BROW_INNER_RAISE_IOD, "iod"),
        ChannelGeometry("brow_furrow", "brow_gap", -BROW_FURROW_IOD, "iod",
                        "inner brows also drop by BROW_FURROW_IOD"),
        ChannelGeometry("eye_open", "eye_opening", EYE_OPEN_FRACTION, "fraction"),
        ChannelGeometry("cheek_raise", "cheek_height", CHEEK_RAISE_IOD, "iod"),
        ChannelGeometry("nose_wrinkle", "nose_wrinkle", NOSE_WRINKLE_IOD, "iod"),
        ChannelGeometry("blink_left", "eye_opening_left", -BLINK_FRACTION, "fraction"),
        ChannelGeometry("blink_right", "eye_opening_right", -BLINK_FRACTION, "fraction"),
        ChannelGeometry("head_pitch_deg", "head_pitch", 1.0, "deg"),
        ChannelGeometry("head_yaw_deg", "head_yaw", 1.0, "deg"),
        ChannelGeometry("head_roll_deg", "head_roll", 1.0, "deg"),
        ChannelGeometry("gaze_x", "iris_x", GAZE_TRAVEL_IOD, "iod"),
        ChannelGeometry("gaze_y", "iris_y", GAZE_TRAVEL_IOD, "iod"),
    )
}

# Measured features (keys of emotion_targets.json, each a delta from neutral in IOD) -> the
# channel they calibrate and its IOD per unit. An emotion's channel offset at full intensity is
# ``delta / scale`` (clipped to the channel range). Eye opening in IOD goes through the typical
# rest aperture; "eye_opening_rel" (a fraction of the neutral aperture) is accepted as well.
FEATURE_TO_CHANNEL: dict[str, tuple[str, float]] = {
    "brow_height": ("brow_raise", BROW_RAISE_IOD),
    "inner_brow_height": ("brow_inner_raise", BROW_INNER_RAISE_IOD),
    "eye_opening": ("eye_open", EYE_OPEN_FRACTION * EYE_APERTURE_REST_IOD),
    "eye_opening_rel": ("eye_open", EYE_OPEN_FRACTION),
    "mouth_corner_height": ("mouth_corner", MOUTH_CORNER_IOD),
    "mouth_width": ("lip_spread", LIP_SPREAD_IOD),
    "nose_wrinkle": ("nose_wrinkle", NOSE_WRINKLE_IOD),
    "mouth_corner_asym": ("mouth_corner_asym", MOUTH_CORNER_ASYM_IOD),
    "brow_gap": ("brow_furrow", -BROW_FURROW_IOD),  # brows pulled together: the gap shrinks
    "cheek_raise": ("cheek_raise", CHEEK_RAISE_IOD),
    "upper_lip_raise": ("upper_lip_raise", UPPER_LIP_RAISE_IOD),
}
