"""The visible "AI-generated" badge on every frame, and the caption text the bots post with it.

The badge is rendered once per video (Pillow, bundled DejaVu Sans Condensed Bold, so the middle
dot and non-ASCII text render on any host) into an RGBA tile, then alpha-composited into all
frames at once with integer numpy arithmetic. A semi-opaque dark rounded box under white text
keeps it readable on any background. There is deliberately no switch to turn it off: callers
choose the text and the corner, never whether.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vitaphone.core.errors import BadOption
from vitaphone.core.media.types import Frames

FONT_PATH = Path(__file__).with_name("fonts") / "DejaVuSansCondensed-Bold.ttf"
DEFAULT_TEXT = "AI-generated · synthetic"
# Where the badge may sit: a corner, or centred on the top or bottom edge.
CORNERS = ("bottom-left", "bottom-right", "top-left", "top-right", "bottom", "top")
_MIN_TEXT_PX = 13  # 12 px of solid ink once the anti-aliased top and bottom rows are discounted
_MAX_WIDTH_SHARE = 0.9  # never wider than this share of the frame (long custom texts shrink)
_BOX_ALPHA = 0.7  # dark box opacity: white text keeps > 7:1 contrast (WCAG AAA) even on white
_SUPERSAMPLE = 3  # draw at 3x and downsample: smooth rounded corners and glyph edges

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class LabelOptions:
    """text: what the badge says; corner: one of CORNERS (moved if it would cover the face);
    text_height_share: glyph height (ascender to descender) over the frame's shorter side."""

    text: str = DEFAULT_TEXT
    corner: str = "bottom-left"
    text_height_share: float = 0.04

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise BadOption("The label text is empty.", "Give a label text such as 'AI-generated'.")
        if len(self.text) > 80:  # the same limit as Settings.label_text
            raise BadOption("The label text is longer than 80 characters.", "Use a shorter label.")
        if self.corner not in CORNERS:
            raise BadOption(
                f"Unknown label corner {self.corner!r}.", f"Use one of: {', '.join(CORNERS)}."
            )
        if not 0.02 <= self.text_height_share <= 0.1:
            raise BadOption("label text_height_share must be within 0.02-0.1.", "Use about 0.04.")


@dataclass(frozen=True)
class LabelledFrames:
    """frames with the badge in every one; box_xyxy: where it is (output pixels); corner used."""

    frames: Frames
    box_xyxy: Box
    corner: str


def apply_label(
    frames: Frames, options: LabelOptions = LabelOptions(), *, in_place: bool = False
) -> LabelledFrames:
    """Composite the badge into every frame of `frames.rgb` (n, H, W, 3) uint8.

    The corner moves to another one when it would overlap `frames.head_box_xyxy`.
    """
    _, height, width, _ = frames.rgb.shape
    tile = render_badge(options.text, height, width, options.text_height_share)
    corner, box = place_badge(tile.shape[:2], (height, width), frames.head_box_xyxy, options.corner)
    rgb = frames.rgb if in_place else frames.rgb.copy()
    x0, y0, x1, y1 = box
    tile = tile[: y1 - y0, : x1 - x0]  # only on frames too small for the legibility floor
    region = rgb[:, y0:y1, x0:x1].astype(np.uint16)  # (n, h, w, 3): a few thousand pixels each
    alpha = tile[None, :, :, 3:4].astype(np.uint16)
    blended = (region * (255 - alpha) + tile[None, :, :, :3].astype(np.uint16) * alpha + 127) // 255
    rgb[:, y0:y1, x0:x1] = blended.astype(np.uint8)
    return LabelledFrames(replace(frames, rgb=rgb), box, corner)


@lru_cache(maxsize=32)
def render_badge(
    text: str, frame_height: int, frame_width: int, text_height_share: float = 0.04
) -> np.ndarray:
    """The badge as an (h, w, 4) uint8 RGBA tile (premultiplied-free: RGB is the colour, A the
    coverage), sized for a frame_height x frame_width frame."""
    target_px = max(_MIN_TEXT_PX, round(text_height_share * min(frame_height, frame_width)))
    font, (left, top, right, bottom) = _font_for(text, target_px * _SUPERSAMPLE)
    text_w, text_h = right - left, bottom - top
    pad_x, pad_y = round(0.55 * text_h), round(0.38 * text_h)
    width, height = text_w + 2 * pad_x, text_h + 2 * pad_y
    max_width = _MAX_WIDTH_SHARE * frame_width * _SUPERSAMPLE
    if width > max_width and target_px > _MIN_TEXT_PX:
        # A long custom text: shrink it to fit, but not below the legibility floor.
        smaller = max(
            text_height_share * max_width / width, _MIN_TEXT_PX / min(frame_height, frame_width)
        )
        return render_badge(text, frame_height, frame_width, smaller)
    return _draw(font, text, width, height, pad_x - left, pad_y - top)


def _font_for(text: str, glyph_px: int) -> tuple[ImageFont.FreeTypeFont, tuple[int, int, int, int]]:
    """The font size whose rendered `text` is `glyph_px` tall, and that text's bounding box."""
    size = glyph_px
    for _ in range(3):  # the glyph box is ~0.9-1.2 em depending on the text: converge on it
        font = ImageFont.truetype(str(FONT_PATH), size)
        bbox = font.getbbox(text)
        size = max(1, round(size * glyph_px / max(bbox[3] - bbox[1], 1)))
    font = ImageFont.truetype(str(FONT_PATH), size)
    return font, font.getbbox(text)


def _draw(
    font: ImageFont.FreeTypeFont, text: str, width: int, height: int, text_x: int, text_y: int
) -> np.ndarray:
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    radius = height // 3
    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius, fill=(12, 12, 12, round(255 * _BOX_ALPHA))
    )
    draw.text((text_x, text_y), text, font=font, fill=(255, 255, 255, 255))
    small = canvas.resize(
        (max(1, round(width / _SUPERSAMPLE)), max(1, round(height / _SUPERSAMPLE))),
        Image.Resampling.LANCZOS,
    )
    tile = np.asarray(small, dtype=np.uint8).copy()
    tile.setflags(write=False)  # cached and shared between calls
    return tile


def place_badge(
    tile_hw: tuple[int, int], frame_hw: tuple[int, int], head_box: Box, corner: str
) -> tuple[str, Box]:
    """(corner, box_xyxy) for a tile of tile_hw in a frame of frame_hw: the requested position
    unless it overlaps the head box; then the one with the least overlap, nearest first."""

    def distance(candidate: str) -> tuple[bool, bool]:  # same edge first, then same side
        (edge, *side), (want_edge, *want_side) = candidate.split("-"), corner.split("-")
        return edge != want_edge, side != want_side

    order = sorted(CORNERS, key=distance)
    boxes = [(c, _corner_box(tile_hw, frame_hw, c)) for c in order]
    overlaps = [_overlap(box, head_box) for _, box in boxes]
    return boxes[int(np.argmin(overlaps))]  # argmin keeps the first (preferred) among ties


def _corner_box(tile_hw: tuple[int, int], frame_hw: tuple[int, int], corner: str) -> Box:
    (tile_h, tile_w), (frame_h, frame_w) = tile_hw, frame_hw
    margin = max(4, round(0.03 * min(frame_h, frame_w)))
    if corner.endswith("left"):
        x0 = margin
    elif corner.endswith("right"):
        x0 = frame_w - margin - tile_w
    else:
        x0 = (frame_w - tile_w) // 2
    y0 = margin if corner.startswith("top") else frame_h - margin - tile_h
    x0, y0 = max(0, x0), max(0, y0)
    return x0, y0, min(frame_w, x0 + tile_w), min(frame_h, y0 + tile_h)


def _overlap(a: Box, b: Box) -> int:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def caption_text(
    verify_hint: str = "send the video to /verify", *, label: str = "AI-generated video (synthetic)"
) -> str:
    """The caption the bots post with every video: disclosure first, then how to check it."""
    return f"🤖 {label}. Made with Vitaphone. Verify: {verify_hint}."
