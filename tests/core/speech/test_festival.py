"""festival (optional engine): exact segment and word times where it is installed."""

from __future__ import annotations

import pytest

from vitaphone.core.errors import UnknownVoice, UnsupportedLanguage
from vitaphone.core.speech.align import time_recording
from vitaphone.core.speech.types import PHONE_SET, SILENCE


@pytest.fixture(scope="module")
def festival():
    from required_engines import require_binary
    from vitaphone.core.speech.festival import FestivalEngine

    require_binary("festival", "optional for users, installed by .ci/run")
    return FestivalEngine()


def test_speaks_with_contiguous_phones_and_words(festival):
    voice = festival.voices()[0].name
    speech = festival.synthesize('Doctor Smith said "hello" at three, didn\'t he?', voice, "en")
    phones = speech.phones
    assert phones[0].start_s == 0 and phones[-1].end_s == pytest.approx(speech.duration_s)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(phones, phones[1:]))
    assert {p.phone for p in phones} <= PHONE_SET and phones[0].phone == SILENCE
    assert [w.word for w in speech.words] == ["Doctor", "Smith", "said", "hello", "at", "three",
                                              "didn't", "he"]  # fmt: skip
    assert speech.timing == "engine" and speech.source.engine.startswith("festival")
    # Its timings are the audio's: the aligner agrees with them.
    timeline = time_recording(_to_16k(speech), speech.text, "en")
    assert timeline.method == "forced_alignment"
    ours = {w: s for w, s, _ in timeline.words}
    for word in speech.words[:4]:
        assert abs(ours[word.word.lower()] - word.start_s) < 0.06


def _to_16k(speech):
    from scipy.signal import resample_poly

    return resample_poly(speech.samples, 16000, speech.sample_rate_hz).astype("float32")


def test_errors(festival):
    with pytest.raises(UnknownVoice):
        festival.synthesize("hello", "slt", "en")
    with pytest.raises(UnsupportedLanguage):
        festival.synthesize("hallo", festival.voices()[0].name, "de")
