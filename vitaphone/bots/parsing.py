"""Options written after a quote in a chat message: "Hello there! [happy 60, voice: man, US]".

Telegram has no option fields, so a trailing bracket carries them: an emotion, an intensity
(0-100), `voice: NAME` and `lang: CODE`, in any order, separated by commas. Discord has real
options and never needs this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TRAILING = re.compile(r"\[([^\[\]]*)\]\s*$")


@dataclass(frozen=True)
class QuoteOptions:
    quote: str | None
    emotion: str | None = None
    intensity_percent: int | None = None
    base_voice: str | None = None
    language: str | None = None


def parse_quote(text: str | None) -> QuoteOptions:
    text = (text or "").strip()
    match = _TRAILING.search(text)
    if match is None:
        return QuoteOptions(text or None)
    quote = text[: match.start()].strip() or None
    emotion = voice = language = None
    intensity = None
    for part in (p.strip() for p in re.split(r",(?![^:]*$)|;", match.group(1)) if p.strip()):
        key, _, value = part.partition(":")
        key = key.strip().lower()
        if value and key in ("voice", "v"):
            voice = value.strip()
        elif value and key in ("lang", "language"):
            language = value.strip()
        else:
            for word in part.split():
                if word.isdigit():
                    intensity = int(word)
                else:
                    emotion = word.lower()
    return QuoteOptions(quote, emotion, intensity, voice, language)
