"""Text normalisation: what English reads aloud, and the three text errors."""

from __future__ import annotations

import pytest

from vitaphone.core.errors import EmptyText, TextTooLong, UnspeakableText
from vitaphone.core.speech.text import normalize_text


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Dr. Smith met Mr. Jones.", "Doctor Smith met Mister Jones."),
        (
            "He lives at 5 Baker St. near St. Paul's.",
            "He lives at five Baker Street near Saint Paul's.",
        ),
        (
            "It costs $1,234.56.",
            "It costs one thousand two hundred and thirty four dollars and fifty six cents.",
        ),
        ("A £2.5m deal", "A two point five million pounds deal"),
        ("Up 3.5% today", "Up three point five percent today"),
        ("She came 1st and he 22nd.", "She came first and he twenty second."),
        ("Born in 1984, not 2005.", "Born in nineteen eighty four, not two thousand and five."),
        ("Music of the 1990s", "Music of the nineteen nineties"),
        ("On 2024-03-15 we met.", "On March fifteenth twenty twenty four we met."),
        ("Due March 3rd.", "Due March third."),
        ("At 9:05 p.m. we left.", "At nine oh five P M we left."),
        ("Meet at 7am. Then go.", "Meet at seven A M. Then go."),
        ("Pi is 3.14", "Pi is three point one four"),
        ("It was -5 outside", "It was minus five outside"),
        ("Tom & Jerry", "Tom and Jerry"),
        ("Mail ann@example.com now", "Mail ann at example dot com now"),
        ("1 + 1 = 2", "one plus one equals two"),
        ("Apples, pears, etc. Then more.", "Apples, pears, et cetera. Then more."),
        ("A 3rd-party tool", "A third party tool"),
        ("50-60 people", "fifty to sixty people"),
        ("Born 1905-1980", "Born nineteen oh five to nineteen eighty"),
        ("pages 10–12", "pages ten to twelve"),
        ("1/2 of them, 3/4 and 2/3", "one half of them, three quarters and two thirds"),
        ("#1 fan", "number one fan"),
        ("1,2,3 go", "one, two, three go"),
        ("version 2.0.1", "version two dot zero dot one"),
    ],
)
def test_english_is_written_out(text, spoken):
    assert normalize_text(text) == spoken


def test_links_and_emoji_are_dropped_and_pauses_kept():
    out = normalize_text("Look 😀 at https://example.com/x?y=1 — it (really) works… wow!!")
    assert out == "Look at, it, really, works. wow!"


def test_other_languages_keep_digits_for_the_engine():
    assert normalize_text("Es ist 3 Uhr 🕒", language="de") == "Es ist 3 Uhr"


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_empty_text(text):
    with pytest.raises(EmptyText) as err:
        normalize_text(text)
    assert "text" in err.value.message and err.value.hint


def test_too_long_text_names_the_limit():
    with pytest.raises(TextTooLong) as err:
        normalize_text("word " * 100, max_chars=200)
    assert "200" in err.value.message and "200" in err.value.hint
    assert normalize_text("word " * 40, max_chars=200)


@pytest.mark.parametrize(
    "text",
    ["😀🎉👍", "https://example.com www.google.com/maps", "🔥 https://x.io 🔥", "!!! ... ???"],
)
def test_emoji_or_url_only_text_is_unspeakable(text):
    with pytest.raises(UnspeakableText) as err:
        normalize_text(text)
    assert "emoji" in err.value.message and err.value.hint
