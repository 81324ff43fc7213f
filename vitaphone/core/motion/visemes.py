"""ARPAbet phones -> viseme classes -> mouth targets with per-channel dominance.

A viseme gives, for each of the six MOUTH_CHANNELS, a *target* value (the mouth shape the
phone aims for) and a *dominance* (how strongly the phone insists on that channel against its
neighbours in coarticulation). Bilabials insist on lip closure, labiodentals on the lip tuck,
vowels on the jaw and on spread/rounding; consonants made with the tongue (t, k, l, h) barely
constrain the lips or jaw, so they inherit the shape of the surrounding vowels, as in real
speech ("ti" is spread, "tu" is rounded).

Values follow the articulatory phonetics literature qualitatively (jaw height by vowel height,
rounding for back rounded vowels and w, protrusion for sh/ch) and were tuned by eye on
rendered sentences; magnitudes are in the channel units of `geometry.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from vitaphone.core.motion.types import MOUTH_CHANNELS


class Viseme(str, Enum):
    SILENCE = "silence"
    BILABIAL = "bilabial"  # P B M
    LABIODENTAL = "labiodental"  # F V
    DENTAL = "dental"  # TH DH
    ALVEOLAR = "alveolar"  # T D N L
    SIBILANT = "sibilant"  # S Z (alveolar fricatives: teeth nearly together)
    POSTALVEOLAR = "postalveolar"  # SH ZH CH JH
    VELAR = "velar"  # K G NG
    ROUNDED = "rounded"  # OW UW W UH OY
    OPEN = "open"  # AA AO AW AY
    MID = "mid"  # EH AE AH EY
    CLOSE_FRONT = "close_front"  # IY IH Y
    RHOTIC = "rhotic"  # R ER
    GLOTTAL = "glottal"  # HH


PHONE_TO_VISEME: dict[str, Viseme] = {
    "SIL": Viseme.SILENCE,
    **dict.fromkeys(("P", "B", "M"), Viseme.BILABIAL),
    **dict.fromkeys(("F", "V"), Viseme.LABIODENTAL),
    **dict.fromkeys(("TH", "DH"), Viseme.DENTAL),
    **dict.fromkeys(("T", "D", "N", "L"), Viseme.ALVEOLAR),
    **dict.fromkeys(("S", "Z"), Viseme.SIBILANT),
    **dict.fromkeys(("SH", "ZH", "CH", "JH"), Viseme.POSTALVEOLAR),
    **dict.fromkeys(("K", "G", "NG"), Viseme.VELAR),
    **dict.fromkeys(("OW", "UW", "W", "UH", "OY"), Viseme.ROUNDED),
    **dict.fromkeys(("AA", "AO", "AW", "AY"), Viseme.OPEN),
    **dict.fromkeys(("EH", "AE", "AH", "EY"), Viseme.MID),
    **dict.fromkeys(("IY", "IH", "Y"), Viseme.CLOSE_FRONT),
    **dict.fromkeys(("R", "ER"), Viseme.RHOTIC),
    "HH": Viseme.GLOTTAL,
}

# Within a class, some vowels open the jaw more or less than the class target.
PHONE_JAW_SCALE: dict[str, float] = {
    "AE": 1.2, "EY": 0.85, "AH": 0.95, "AO": 0.95, "UW": 0.7, "W": 0.6, "OW": 1.25,
    "UH": 0.9, "IH": 1.2, "Y": 0.8,
}


@dataclass(frozen=True)
class VisemeShape:
    """target, dominance: float32 arrays of shape (len(MOUTH_CHANNELS),), channel order as
    MOUTH_CHANNELS. `contact` names a lip contact the phone must reach at its middle frame."""

    viseme: Viseme
    target: np.ndarray
    dominance: np.ndarray
    contact: str = ""  # "" | "lip_close" | "lower_lip_tuck"


def _shape(viseme: Viseme, target: tuple, dominance: tuple, contact: str = "") -> VisemeShape:
    assert len(target) == len(dominance) == len(MOUTH_CHANNELS)
    return VisemeShape(viseme, np.asarray(target, np.float32),
                       np.asarray(dominance, np.float32), contact)


#                       jaw   spread round close tuck  ulr      dominance per channel
VISEME_SHAPES: dict[Viseme, VisemeShape] = {s.viseme: s for s in (
    # Silence is the portrait's own mouth (lip_close 0: a smile parted at rest stays parted;
    # closed lips stay closed with the jaw at rest). In pauses inside speech the lips still
    # meet: coarticulation.pause_closure sets silence's lip_close by the distance to speech.
    _shape(Viseme.SILENCE, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), (2.0, 1.5, 1.5, 2.0, 2.0, 2.0)),
    _shape(Viseme.BILABIAL, (0.04, 0.0, 0.0, 1.0, 0.0, 0.0), (4.0, 0.3, 0.4, 6.0, 3.0, 2.0),
           "lip_close"),
    _shape(Viseme.LABIODENTAL, (0.10, 0.05, 0.0, 0.0, 1.0, 0.25),
           (3.0, 0.4, 1.0, 4.0, 4.0, 2.0), "lower_lip_tuck"),
    _shape(Viseme.DENTAL, (0.18, 0.1, 0.0, 0.0, 0.0, 0.15), (1.5, 0.4, 0.4, 3.0, 3.0, 0.5)),
    _shape(Viseme.ALVEOLAR, (0.15, 0.1, 0.0, 0.0, 0.0, 0.05), (1.0, 0.3, 0.3, 2.0, 1.0, 0.5)),
    _shape(Viseme.SIBILANT, (0.07, 0.25, 0.0, 0.0, 0.0, 0.15), (2.5, 0.8, 0.5, 2.0, 1.0, 0.8)),
    _shape(Viseme.POSTALVEOLAR, (0.10, -0.3, 0.55, 0.0, 0.0, 0.3),
           (2.0, 2.0, 3.0, 2.0, 1.0, 1.5)),
    _shape(Viseme.VELAR, (0.20, 0.0, 0.0, 0.0, 0.0, 0.0), (0.8, 0.2, 0.2, 2.0, 1.0, 0.5)),
    _shape(Viseme.ROUNDED, (0.22, -0.6, 0.9, 0.0, 0.0, 0.0), (2.5, 3.0, 5.0, 2.0, 2.0, 1.0)),
    _shape(Viseme.OPEN, (0.75, 0.1, 0.0, 0.0, 0.0, 0.1), (5.0, 1.5, 1.5, 3.0, 2.0, 1.0)),
    _shape(Viseme.MID, (0.48, 0.3, 0.0, 0.0, 0.0, 0.1), (4.0, 2.0, 1.5, 3.0, 2.0, 1.0)),
    _shape(Viseme.CLOSE_FRONT, (0.16, 0.7, 0.0, 0.0, 0.0, 0.1), (3.0, 4.0, 2.0, 3.0, 2.0, 1.0)),
    _shape(Viseme.RHOTIC, (0.20, -0.2, 0.45, 0.0, 0.0, 0.1), (1.5, 1.5, 2.5, 2.0, 1.0, 1.0)),
    _shape(Viseme.GLOTTAL, (0.30, 0.0, 0.0, 0.0, 0.0, 0.0), (0.2, 0.2, 0.2, 0.3, 0.2, 0.2)),
)}

# A phone we do not know (should not happen with a valid Speech) gets a weak, schwa-like shape
# so it follows its neighbours instead of breaking the track.
_UNKNOWN = _shape(Viseme.GLOTTAL, (0.3, 0.0, 0.0, 0.0, 0.0, 0.0), (0.5, 0.3, 0.3, 1.0, 0.5, 0.5))


def viseme_of(phone: str) -> Viseme:
    """ARPAbet phone (any case, stress digits allowed) -> Viseme; unknown -> GLOTTAL."""
    return PHONE_TO_VISEME.get(phone.upper().rstrip("012"), Viseme.GLOTTAL)


def shape_of(phone: str) -> VisemeShape:
    """The mouth target and dominance for one phone (class shape, jaw scaled per vowel)."""
    key = phone.upper().rstrip("012")
    viseme = PHONE_TO_VISEME.get(key)
    if viseme is None:
        return _UNKNOWN
    shape = VISEME_SHAPES[viseme]
    scale = PHONE_JAW_SCALE.get(key)
    if scale is None:
        return shape
    target = shape.target.copy()
    target[0] = min(1.0, target[0] * scale)
    return VisemeShape(shape.viseme, target, shape.dominance, shape.contact)
