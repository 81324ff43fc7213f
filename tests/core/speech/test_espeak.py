"""espeak-ng through its C library: exact phoneme/word events, many languages."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import UnknownVoice, UnsupportedLanguage
from vitaphone.core.speech.espeak import EspeakEngine
from vitaphone.core.speech.espeak_phones import ipa_to_arpabet
from vitaphone.core.speech.types import PHONE_SET, SILENCE

SENTENCES = {
    "de": "Guten Tag, ich heiße Anna und wohne in München.",
    "fr": "Bonjour, je m'appelle Pierre et j'habite à Paris.",
    "es": "Hola, me llamo Juan y vivo en Madrid.",
    "ru": "Привет, меня зовут Иван.",
    "zh": "你好，我叫王明。",
    "ar": "مرحبا، اسمي أحمد.",
    "pt-BR": "Olá, meu nome é João.",
}


@pytest.fixture(scope="module")
def espeak():
    return EspeakEngine()


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_languages_speak_with_contiguous_arpabet_phones(espeak, language):
    speech = espeak.synthesize(SENTENCES[language], "espeak-male", language)
    assert speech.sample_rate_hz == 22050 and speech.samples.dtype == np.float32
    assert speech.duration_s > 0.8
    phones = speech.phones
    assert phones[0].start_s == 0.0 and phones[-1].end_s == pytest.approx(speech.duration_s)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(phones, phones[1:]))
    assert {p.phone for p in phones} <= PHONE_SET
    assert sum(p.phone != SILENCE for p in phones) >= 5
    assert speech.timing == "engine" and speech.source.engine.startswith("espeak-ng")
    assert len(speech.words) >= 2


def test_word_events_name_the_words_in_order(espeak):
    speech = espeak.synthesize(SENTENCES["de"], "espeak-female", "de")
    assert [w.word for w in speech.words] == "Guten Tag ich heiße Anna und wohne in München".split()
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)
    # The comma's pause lies between "Tag" and "ich".
    tag, ich = speech.words[1], speech.words[2]
    assert ich.start_s - tag.end_s > 0.05


def test_language_codes_and_errors(espeak):
    codes = espeak.languages()
    assert {"de", "fr", "es", "zh", "pt-br", "en"} <= set(codes) and len(codes) > 100
    assert espeak.resolve_language("pt-BR") == "pt-br"
    assert espeak.resolve_language("de-AT") == "de"
    with pytest.raises(UnsupportedLanguage) as err:
        espeak.resolve_language("xx")
    assert "'xx'" in err.value.message and "de" in err.value.hint and "fr" in err.value.hint
    with pytest.raises(UnknownVoice):
        espeak.synthesize("hallo", "slt", "de")


@pytest.mark.parametrize(
    ("ipa", "arpabet"),
    [("ˈaɪ", ("AY",)), ("tʃ", ("CH",)), ("ts", ("T", "S")), ("ʁ", ("R",)), ("y", ("UW",)),
     ("ç", ("HH",)), ("ɾ", ("D",)), ("", (SILENCE,)), ("(en)", ()), ("ɑ̃", ("AA",)),
     ("ɯᵝ", ("UW",))],
)  # fmt: skip
def test_ipa_mapping(ipa, arpabet):
    assert ipa_to_arpabet(ipa) == arpabet
