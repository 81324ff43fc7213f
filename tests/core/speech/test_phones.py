"""Timeline helpers: gap filling and word spans from phones."""

from __future__ import annotations

import pytest

from vitaphone.core.speech.engines import fill_phone_gaps
from vitaphone.core.speech.phones import words_from_phones
from vitaphone.core.speech.types import PhoneSpan


def test_gaps_become_silence_overlaps_are_cut_and_the_end_is_exact():
    spans = [
        ("AH", 0.1, 0.3),
        ("B", 0.25, 0.5),
        ("SIL", 0.5, 0.6),
        ("SIL", 0.6, 0.7),
        ("T", 0.9, 1.3),
    ]
    out = fill_phone_gaps(spans, 1.2)
    assert out == [
        ("SIL", 0.0, 0.1), ("AH", 0.1, 0.3), ("B", 0.3, 0.5), ("SIL", 0.5, 0.9), ("T", 0.9, 1.2),
    ]  # fmt: skip
    assert fill_phone_gaps([], 0.5) == [("SIL", 0.0, 0.5)]


def test_words_follow_their_phones_despite_reductions():
    phones = [PhoneSpan(*s) for s in fill_phone_gaps(
        [("DH", 0.1, 0.15), ("AH", 0.15, 0.2), ("K", 0.2, 0.3), ("AE", 0.3, 0.45), ("T", 0.45, 0.5),
         ("S", 0.6, 0.7), ("AE", 0.7, 0.8), ("T", 0.8, 0.9)], 1.0)]  # fmt: skip
    # The lexicon says "the" is DH IY; it was reduced to DH AH when spoken.
    lexicon = [("the", ["DH", "IY"]), ("cat", ["K", "AE", "T"]), ("sat", ["S", "AE", "T"])]
    words = words_from_phones(lexicon, phones)
    assert [(w.word, w.start_s, w.end_s) for w in words] == [
        ("the", 0.1, 0.2), ("cat", 0.2, 0.5), ("sat", 0.6, 0.9),
    ]  # fmt: skip
    assert words_from_phones([], phones) == ()


@pytest.mark.parametrize("duration", [0.0, 0.001])
def test_tiny_durations(duration):
    assert all(end >= start for _, start, end in fill_phone_gaps([("AH", 0.0, 0.5)], duration))
