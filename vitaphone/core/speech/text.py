"""Text normalisation: turn a user's quote into words an engine can read aloud.

`normalize_text` validates (empty, too long, nothing speakable), removes what is not to be read
(URLs, e-mail-less web addresses, emoji and pictographs, markup-ish symbols), keeps
punctuation-driven pauses as commas and full stops, and for English writes numbers, money,
percentages, ordinals, years, dates, times, abbreviations and symbols as words (`text_en.py`).
Other languages keep their digits: espeak-ng reads numbers in its own languages correctly.
"""

from __future__ import annotations

import re
import unicodedata

from vitaphone.core.errors import EmptyText, TextTooLong, UnspeakableText
from vitaphone.core.speech.text_en import expand_english

DEFAULT_MAX_CHARS = 1000
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)\S+"  # explicit links
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|co|uk|de|fr|gov|edu|info|ly|me|app|dev)(?:/\S*)?\b",
    re.I,
)
_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b")
# Pause punctuation folded onto the two an engine honours: "," (short) and "." (long).
# (":" and "–" between digits are times and ranges, not pauses.)
_TO_COMMA = re.compile(
    r"(?:\s*(?:[;—()\[\]{}]|(?<!\d)[:–]|[:–](?!\d)|(?<=\s)-(?=\s)|-{2,})\s*)+"
)
_TO_STOP = re.compile(r"\s*(?:\.{2,}|…)\s*")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "`": "'", "´": "'"})
# Emoji modifiers and joiners left behind after removing the pictographs themselves.
_INVISIBLE = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


def normalize_text(
    text: str | None,
    *,
    language: str = "en",
    max_chars: int = DEFAULT_MAX_CHARS,
    field: str = "text",
) -> str:
    """Validate and normalise a quote for a TTS engine.

    text: what the user typed. language: ISO code ("en", "de", ...). max_chars: the configured
    limit on the user's text. field: how the text is named in error messages.
    Returns one line of words and pause punctuation (",", ".", "?", "!").
    Raises EmptyText, TextTooLong, UnspeakableText (only emoji, links or symbols).
    """
    if text is None or not text.strip():
        raise EmptyText(f"The {field} is empty.", "Type the words the portrait should say.")
    stripped = text.strip()
    if len(stripped) > max_chars:
        raise TextTooLong(
            f"The {field} is {len(stripped)} characters long; the limit is {max_chars}.",
            f"Shorten it to at most {max_chars} characters.",
        )
    english = language.split("-")[0].lower() == "en"
    cleaned = clean_text(stripped, read_emails=english)
    if not re.search(r"[^\W_]", cleaned):  # no letter or digit in any script
        raise UnspeakableText(
            f"The {field} has nothing to read aloud: it is only emoji, links or symbols.",
            "Write the quote in words.",
        )
    if english:
        cleaned = expand_english(cleaned)
        cleaned = re.sub(r"(?<=\w)/(?=\w)", " ", cleaned)  # "and/or", "24/7"
        cleaned = re.sub(r"[^\w\s'.,!?-]", " ", cleaned)  # leftover symbols say nothing
    return _tidy_punctuation(cleaned)


def clean_text(text: str, *, read_emails: bool = False) -> str:
    """Drop links and emoji, unify quotes and fold pause punctuation; any language.

    read_emails: write e-mail addresses as English words ("ann at example dot com"), else drop.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    spoken_email = (
        (lambda m: f" {m.group(1)} at {m.group(2).replace('.', ' dot ')} ") if read_emails else " "
    )
    text = _EMAIL.sub(spoken_email, text)
    text = _URL.sub(" ", text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in _INVISIBLE or cat in ("So", "Cs", "Co", "Cn", "Sk") and ch not in "°":
            kept.append(" ")  # pictographs, emoji, private use: nothing to say
        elif cat.startswith("C") and ch not in "\t\n":
            kept.append(" ")  # control characters
        else:
            kept.append(ch)
    text = "".join(kept)
    text = _TO_STOP.sub(". ", text)
    text = _TO_COMMA.sub(", ", text)
    return text.replace('"', " ").replace("*", " ").replace("_", " ")


def _tidy_punctuation(text: str) -> str:
    """One space between words, no space before punctuation, no runs of pause marks."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.!?])", r"\1", text)
    text = re.sub(r"([,.!?])(?:\s*[,.!?])+", r"\1", text)  # ", ," / "!!" / ". ," -> first mark
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes
    text = re.sub(r"\s+", " ", text).strip(" ,")
    text = re.sub(r"^[.!?,\s]+", "", text)
    return text
