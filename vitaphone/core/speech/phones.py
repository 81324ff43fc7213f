"""Phone-label helpers shared by engines and the aligner: ARPAbet mapping and word spans.

Labels in the product are upper-case ARPAbet without stress digits plus `SIL` (see types.py).
flite and pocketsphinx speak (extended) ARPAbet already; this module folds their extra symbols
onto the 39 base phones. espeak-ng's own phonemes are mapped in `espeak_phones.py`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from vitaphone.core.speech.types import ARPABET, SILENCE, PhoneSpan, WordSpan

# Extended ARPAbet / TIMIT symbols (as flite's US phone set and CMU tools use them) -> base set.
# Syllabic consonants keep only their consonant: the mouth shape is the consonant's.
_EXTENDED: dict[str, str] = {
    "AX": "AH",  # schwa
    "AXR": "ER",
    "IX": "IH",
    "UX": "UW",
    "DX": "D",  # flap
    "NX": "N",
    "EL": "L",
    "EM": "M",
    "EN": "N",
    "HV": "HH",
    "Q": "T",  # glottal stop, closest closure
}
# Silence-like and noise labels: flite's pau/h#/brth, pocketsphinx's SIL/<sil>/+NSN+/+SPN+ ...
_SILENT = re.compile(r"^(PAU|H#|BRTH|SIL|SP|SPN|NSN|<S>|</S>|<SIL>|\+.*\+|\[.*\])$")


def to_arpabet(label: str) -> str:
    """Map one (extended) ARPAbet label, any case, maybe with a stress digit, to the phone set.

    Unknown labels raise ValueError: a silent fallback would hide an engine change.
    """
    up = label.strip().upper()
    if _SILENT.match(up):
        return SILENCE
    up = up.rstrip("012")
    up = _EXTENDED.get(up, up)
    if up in ARPABET:
        return up
    raise ValueError(f"phone label {label!r} is not ARPAbet")


def words_from_phones(
    word_phones: Sequence[tuple[str, Sequence[str]]], phones: Sequence[PhoneSpan]
) -> tuple[WordSpan, ...]:
    """Word spans from a phone timeline and each word's expected pronunciation.

    word_phones: (word, ARPAbet phones) in spoken order, e.g. from the engine's lexicon.
    phones: the timed phones actually spoken (SIL included). The two phone strings are aligned
    with difflib (post-lexical rules and reductions make them differ a little); each spoken phone
    belongs to the word its match came from, and a word's span runs from its first to its last
    phone. Words with no matched phone (rare) get no span.
    """
    expected: list[int] = []  # word index of each expected phone
    expected_labels: list[str] = []
    for i, (_, prons) in enumerate(word_phones):
        for p in prons:
            if p != SILENCE:
                expected.append(i)
                expected_labels.append(p)
    spoken = [(k, ph) for k, ph in enumerate(phones) if ph.phone != SILENCE]
    owner: dict[int, int] = {}  # spoken phone index (into `spoken`) -> word index
    matcher = difflib.SequenceMatcher(
        None, expected_labels, [ph.phone for _, ph in spoken], autojunk=False
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for off in range(b1 - b0):
                owner[b0 + off] = expected[a0 + off]
        elif tag == "replace":  # spread the spoken phones over the replaced expected ones
            for off in range(b1 - b0):
                owner[b0 + off] = expected[a0 + (off * (a1 - a0)) // (b1 - b0)]
        elif tag == "insert":  # an extra spoken phone: give it to the word before
            for off in range(b1 - b0):
                prev = owner.get(b0 + off - 1, expected[a0] if a0 < len(expected) else None)
                if prev is not None:
                    owner[b0 + off] = prev
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for b, w in owner.items():
        span = spoken[b][1]
        first[w] = min(first.get(w, span.start_s), span.start_s)
        last[w] = max(last.get(w, span.end_s), span.end_s)
    return tuple(
        WordSpan(word_phones[w][0], first[w], last[w]) for w in sorted(first) if last[w] > first[w]
    )
