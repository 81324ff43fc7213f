"""A quote the language cannot speak is refused (or spoken in the language of its script), and
speech that is nothing but silence is never accepted."""

from __future__ import annotations

import pytest

from vitaphone.core.errors import UnspeakableText, UnsupportedLanguage
from vitaphone.core.speech.script import dominant_script, language_for_text
from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech
from vitaphone.core.speech.types import SILENCE


@pytest.mark.parametrize(("text", "script"), [
    ("Hello", "LATIN"), ("مرحبا", "ARABIC"), ("שלום", "HEBREW"), ("Привет", "CYRILLIC"),
    ("你好", "CJK"), ("今日はいい天気", "HIRAGANA"), ("안녕하세요", "HANGUL"), ("１２３", None),
    ("Привет, John!", "CYRILLIC"),  # the majority decides
])
def test_dominant_script(text: str, script: str | None) -> None:
    assert dominant_script(text) == script


@pytest.mark.parametrize("text", ["مرحبا بالعالم", "שלום עולם", "Привет, мир!", "你好世界"])
def test_a_foreign_script_with_english_is_refused_not_spoken_as_silence(text: str) -> None:
    with pytest.raises(UnsupportedLanguage, match="cannot read"):
        synthesize_speech(text, SpeechOptions(language="en"))


@pytest.mark.parametrize(("text", "language"), [
    ("مرحبا بالعالم", "ar"), ("שלום עולם", "he"), ("Привет, мир!", "ru"), ("你好世界", "zh"),
])
def test_the_script_picks_a_voice_that_speaks_it(text: str, language: str) -> None:
    picked = language_for_text(text, None)
    assert picked == language
    speech = synthesize_speech(text, SpeechOptions(language=picked))
    spoken = [p for p in speech.phones if p.phone != SILENCE]
    assert len(spoken) >= 4 and speech.duration_s > 0.6
    assert speech.source.engine.startswith("espeak-ng")


def test_speech_with_no_phone_but_silence_is_refused() -> None:
    # "ŋ" is a Latin letter that flite's English front end cannot say: 0.19 s of silence.
    with pytest.raises(UnspeakableText, match="found nothing it can say"):
        synthesize_speech("ŋŋ ŋ", SpeechOptions(language="en"))
