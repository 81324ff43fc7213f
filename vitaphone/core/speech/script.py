"""Which writing system a quote is in, and whether a language's voice can read it.

A quote in Arabic, Hebrew, Cyrillic or Chinese handed to an English voice comes out as silence
(flite) or as letter names (espeak-ng). `language_for_text` picks the espeak-ng language of the
quote's script when the user did not choose one, and `check_script` refuses a quote whose script
the chosen language cannot read. Standard library only: the bots call it before anything heavy.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from vitaphone.core.errors import UnsupportedLanguage

# Script (the first word of a letter's Unicode name) -> the espeak-ng language we speak it with.
# Scripts shared by many languages get the most widely spoken one; the hint names the option.
SCRIPT_LANGUAGE: dict[str, str] = {
    "LATIN": "en", "CYRILLIC": "ru", "ARABIC": "ar", "HEBREW": "he", "GREEK": "el",
    "CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "DEVANAGARI": "hi",
    "BENGALI": "bn", "GURMUKHI": "pa", "GUJARATI": "gu", "TAMIL": "ta", "TELUGU": "te",
    "KANNADA": "kn", "MALAYALAM": "ml", "SINHALA": "si", "THAI": "th", "GEORGIAN": "ka",
    "ARMENIAN": "hy", "ETHIOPIC": "am", "MYANMAR": "my", "ORIYA": "or",
}
SCRIPT_NAMES: dict[str, str] = {
    "CJK": "Chinese characters", "HIRAGANA": "Japanese kana", "KATAKANA": "Japanese kana",
    "HANGUL": "Korean Hangul",
}
# Language (ISO 639 base code) -> the scripts its espeak-ng voice reads. Languages missing here
# are not checked (we do not know better than the user).
_CYRILLIC = ("ba", "be", "bg", "cv", "kk", "ky", "mk", "nog", "ru", "sr", "tt", "uk", "tk")
_ARABIC = ("ar", "fa", "ku", "sd", "ug", "ur")
_LATIN = ("af", "an", "az", "bs", "ca", "cs", "cy", "da", "de", "en", "eo", "es", "et", "eu",
          "fi", "fr", "ga", "gd", "haw", "hr", "ht", "hu", "ia", "id", "io", "is", "it", "la",
          "lb", "lt", "lv", "mi", "ms", "mt", "nb", "nl", "no", "om", "pl", "pt", "qu", "ro",
          "sk", "sl", "sq", "sv", "sw", "tn", "tr", "uz", "vi")
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{code: frozenset({"LATIN"}) for code in _LATIN},
    **{code: frozenset({"CYRILLIC"}) for code in _CYRILLIC},
    **{code: frozenset({"ARABIC"}) for code in _ARABIC},
    "sr": frozenset({"CYRILLIC", "LATIN"}), "tk": frozenset({"LATIN", "CYRILLIC"}),
    "he": frozenset({"HEBREW"}), "el": frozenset({"GREEK"}),
    "zh": frozenset({"CJK"}), "cmn": frozenset({"CJK"}), "yue": frozenset({"CJK"}),
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}), "ko": frozenset({"HANGUL", "CJK"}),
    **{code: frozenset({"DEVANAGARI"}) for code in ("hi", "mr", "ne", "kok")},
    **{code: frozenset({script}) for script, code in (
        ("BENGALI", "bn"), ("GURMUKHI", "pa"), ("GUJARATI", "gu"), ("TAMIL", "ta"),
        ("TELUGU", "te"), ("KANNADA", "kn"), ("MALAYALAM", "ml"), ("SINHALA", "si"),
        ("THAI", "th"), ("GEORGIAN", "ka"), ("ARMENIAN", "hy"), ("ETHIOPIC", "am"),
        ("MYANMAR", "my"), ("ORIYA", "or"))},
}


def base_language(language: str) -> str:
    """'pt-BR' -> 'pt', 'en_US' -> 'en'."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of each script `text` has (script = first word of the Unicode name;
    Chinese ideographs count as "CJK"). Digits, punctuation and symbols are not counted."""
    counts: Counter[str] = Counter()
    for ch in text:
        if not unicodedata.category(ch).startswith("L"):
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ", 1)[0] if name else ""
        if script in ("FULLWIDTH", "HALFWIDTH"):  # ＡＢＣ, ｶﾀｶﾅ: the script follows
            script = name.split(" ")[1]
        if script:
            counts[script] += 1
    return counts


def dominant_script(text: str) -> str | None:
    """The script most of the quote's letters are in ("LATIN", "ARABIC", "CJK", ...), or None
    when it has no letters. Japanese (any kana among ideographs) reads as "HIRAGANA"."""
    counts = letter_scripts(text)
    if not counts:
        return None
    if counts["CJK"] and (counts["HIRAGANA"] or counts["KATAKANA"]):
        counts["HIRAGANA"] += counts.pop("CJK") + counts.pop("KATAKANA", 0)
    return counts.most_common(1)[0][0]


def script_name(script: str) -> str:
    return SCRIPT_NAMES.get(script, f"the {script.title()} alphabet")


def language_for_text(text: str, language: str | None) -> str:
    """The language to speak `text` in.

    language: what the user chose, or None to pick it from the script (Latin, or no letters at
    all, gives English). A chosen language must be able to read the script: raises
    UnsupportedLanguage saying which script the quote is in and what to pass instead.
    """
    script = dominant_script(text)
    if language is None or not language.strip():
        return SCRIPT_LANGUAGE.get(script or "LATIN", "en")
    check_script(text, language, script)
    return language


def check_script(text: str, language: str, script: str | None = None) -> None:
    """Refuse a quote whose letters are mostly in a script `language`'s voice cannot read."""
    script = script or dominant_script(text)
    readable = LANGUAGE_SCRIPTS.get(base_language(language))
    if script is None or readable is None or script in readable:
        return
    fitting = SCRIPT_LANGUAGE.get(script)
    hint = (f"Leave the language out to have it picked from the text, or choose '{fitting}'."
            if fitting else "Write the quote in the language's own alphabet.")
    raise UnsupportedLanguage(
        f"The quote is written in {script_name(script)}, which the '{language}' voice cannot "
        "read: it would say nothing.",
        hint,
    )
