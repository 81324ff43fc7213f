"""English read-aloud rules: numbers, money, percentages, ordinals, years, dates, times,
abbreviations and symbols, written out as words (numbers via `num2words`).

flite has its own expansion, but it reads "Dr. Smith" as "drive Smith", "3.5%" digit by digit
and "$1.50" as "one dollar fifty", so we expand everything before it sees the text.
"""

from __future__ import annotations

import re

from num2words import num2words

_MONTHS = (
    "January February March April May June July August September October November December".split()
)
_MONTH_ABBR = {m[:3].lower(): m for m in _MONTHS} | {"sept": "September"}
# Title abbreviations read before a name; "St." is Saint before a name and Street otherwise.
_TITLES = {
    "dr": "Doctor", "mr": "Mister", "mrs": "Missus", "ms": "Miz", "prof": "Professor",
    "gen": "General", "capt": "Captain", "sgt": "Sergeant", "rev": "Reverend", "hon": "Honorable",
    "gov": "Governor", "pres": "President", "sen": "Senator", "rep": "Representative",
}  # fmt: skip
_ABBREVIATIONS = {
    "jr": "Junior", "sr": "Senior", "etc": "et cetera", "vs": "versus", "approx": "approximately",
    "ave": "Avenue", "blvd": "Boulevard", "rd": "Road", "mt": "Mount", "ft": "feet",
    "dept": "department",
    "inc": "Incorporated", "ltd": "Limited", "co": "Company", "corp": "Corporation",
    "no": "number", "e.g": "for example", "i.e": "that is", "a.m": "A M", "p.m": "P M",
}  # fmt: skip
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "", ""),
}  # fmt: skip
_SCALES = {
    "k": "thousand", "m": "million", "mn": "million", "bn": "billion", "b": "billion",
    "thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion",
}  # fmt: skip
_SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "°": " degrees ",
            "×": " times ", "%": " percent ", "~": " about "}  # fmt: skip
# A number: digits with optional thousands commas ("1,234", not "1,2,3") and decimals.
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_DIGITS = "zero one two three four five six seven eight nine".split()


def cardinal(number: str) -> str:
    """'1,234.05' -> 'one thousand two hundred and thirty four point zero five'.

    Decimals are read digit by digit from the string (num2words' float path drops "2.0"'s zero).
    """
    whole, _, frac = number.replace(",", "").partition(".")
    words = _tidy(num2words(int(whole or "0")))
    if frac:
        words += " point " + " ".join(_DIGITS[int(d)] for d in frac)
    return words


def _tidy(words: str) -> str:
    # num2words writes "one thousand, two hundred": the comma would become a pause.
    return words.replace(",", "").replace("-", " ")


def _year_or_number(number: str) -> str:
    """A 4-digit 1100-2099 reads as a year ("1905-1980"), anything else as a number."""
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", number):
        return _year(int(number))
    return cardinal(number)


def _year(value: int) -> str:
    return _tidy(num2words(value, to="year"))


def _ordinal(value: int) -> str:
    return _tidy(num2words(value, to="ordinal"))


def expand_english(text: str) -> str:
    """Write numbers, money, dates, abbreviations and symbols in `text` as English words."""
    text = re.sub(r"#(?=\s*\d)", " number ", text)
    rules = (_dates, _times, _money, _percent, _dotted_and_ranges, _ordinals, _decades, _years)
    for rule in (*rules, _abbreviations):
        text = rule(text)
    text = re.sub(r"(?<![\w.])-(?=\d)", " minus ", text)
    text = re.sub(_NUM, lambda m: " " + cardinal(m.group(0)) + " ", text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    # Hyphens left next to a number or a space ("3rd-party" -> "third -party") say nothing.
    return re.sub(r"(?<![A-Za-z])-|-(?![A-Za-z])", " ", text)


def _dotted_and_ranges(text: str) -> str:
    """Versions and addresses ("2.0.1" -> "two dot zero dot one"), ranges ("50-60" -> "fifty to
    sixty") and fractions ("3/4" -> "three quarters")."""
    text = re.sub(r"\b\d+(?:\.\d+){2,}\b",
                  lambda m: " " + " dot ".join(cardinal(p) for p in m.group(0).split(".")) + " ",
                  text)  # fmt: skip
    text = re.sub(rf"(?<![\w.-])({_NUM})\s?[-–]\s?({_NUM})\b(?![-/])",
                  lambda m: f" {_year_or_number(m.group(1))} to {_year_or_number(m.group(2))} ",
                  text)  # fmt: skip

    def fraction(m: re.Match[str]) -> str:
        top, bottom = int(m.group(1)), int(m.group(2))
        if bottom == 0:
            return m.group(0)
        if bottom == 2:
            name = "half" if top == 1 else "halves"
        elif bottom == 4:
            name = "quarter" if top == 1 else "quarters"
        else:
            name = _ordinal(bottom) + ("" if top == 1 else "s")
        return f" {cardinal(str(top))} {name} "

    return re.sub(r"(?<![\d/])\b(\d{1,2})/(\d{1,2})\b(?![\d/])", fraction, text)


def _dates(text: str) -> str:
    def iso(m: re.Match[str]) -> str:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return m.group(0)
        return f"{_MONTHS[mo - 1]} {_ordinal(d)} {_year(y)}"

    def slashed(m: re.Match[str]) -> str:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        mo, d = (b, a) if a > 12 else (a, b)  # US order unless the first part cannot be a month
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return m.group(0)
        y = y + 2000 if y < 100 else y
        return f"{_MONTHS[mo - 1]} {_ordinal(d)} {_year(y)}"

    def month_day(m: re.Match[str]) -> str:
        month = _MONTH_ABBR.get(m.group(1).lower()[:4].rstrip("."), None) or _MONTH_ABBR.get(
            m.group(1).lower()[:3]
        )
        return f"{month} {_ordinal(int(m.group(2)))}"

    text = re.sub(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", iso, text)
    text = re.sub(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b", slashed, text)
    months = "|".join(m[:3] for m in _MONTHS) + "|Sept"
    text = re.sub(
        rf"\b((?:{months})[a-z]*\.?)\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)", month_day, text
    )
    return re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+of\s+(" + "|".join(_MONTHS) + r")\b",
                  lambda m: f"the {_ordinal(int(m.group(1)))} of {m.group(2)}", text)  # fmt: skip


def _times(text: str) -> str:
    def clock(m: re.Match[str]) -> str:
        h, mi = int(m.group(1)), int(m.group(2))
        if h > 23 or mi > 59:
            return m.group(0)
        suffix = m.group(3) or ""
        suffix = " ".join(suffix.replace(".", "").upper()) if suffix else ""
        if mi == 0:
            spoken = f"{cardinal(str(h))} {suffix or 'o clock'}"
        elif mi < 10:
            spoken = f"{cardinal(str(h))} oh {cardinal(str(mi))} {suffix}"
        else:
            spoken = f"{cardinal(str(h))} {cardinal(str(mi))} {suffix}"
        return f" {spoken.strip()}{_kept_stop(m)} "

    text = re.sub(r"\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?(?!\w)", clock, text, flags=re.I)
    return re.sub(r"\b(\d{1,2})\s*([ap])\.?m\.?(?!\w)", lambda m: f" {cardinal(m.group(1))} "
                  f"{m.group(2).upper()} M{_kept_stop(m)} ", text, flags=re.I)  # fmt: skip


def _kept_stop(m: re.Match[str]) -> str:
    """'.' when a matched "p.m." also ended the sentence (end of text or a capital follows)."""
    rest = m.string[m.end() :].lstrip()
    return "." if m.group(0).endswith(".") and (not rest or rest[0].isupper()) else ""


def _money(text: str) -> str:
    def spoken(m: re.Match[str]) -> str:
        unit, units, sub, subs = _CURRENCIES[m.group(1)]
        amount = m.group(2).replace(",", "")
        scale = _SCALES.get((m.group(3) or "").strip().lower())
        if scale:  # "$2.5m" -> "two point five million dollars"
            return f" {cardinal(amount)} {scale} {units} "
        whole, _, frac = amount.partition(".")
        words = f"{cardinal(whole)} {unit if int(whole) == 1 else units}"
        if frac and int(frac[:2].ljust(2, "0")) and sub:
            cents = int(frac[:2].ljust(2, "0"))
            words += f" and {cardinal(str(cents))} {sub if cents == 1 else subs}"
        return f" {words} "

    scales = "|".join(sorted(_SCALES, key=len, reverse=True))
    return re.sub(rf"([$£€¥])\s?({_NUM})(\s?(?:{scales})\b)?", spoken, text, flags=re.I)


def _percent(text: str) -> str:
    return re.sub(rf"({_NUM})\s?%", lambda m: f" {cardinal(m.group(1))} percent ", text)


def _ordinals(text: str) -> str:
    return re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: f" {_ordinal(int(m.group(1)))} ", text,
                  flags=re.I)  # fmt: skip


def _decades(text: str) -> str:
    def plural(m: re.Match[str]) -> str:
        words = _year(int(m.group(1)))
        return " " + (words[:-1] + "ies" if words.endswith("y") else words + "s") + " "

    text = re.sub(r"\b(1[1-9]\d0|20\d0)'?s\b", plural, text)
    return re.sub(
        r"(?<!\w)'(\d0)s\b", lambda m: " " + _tidy(num2words(int(m.group(1))))[:-1] + "ies ", text
    )


def _years(text: str) -> str:
    # A bare 4-digit number from 1100 to 2099 reads as a year ("nineteen oh five"); numbers
    # written with a comma ("1,905") or a decimal part stay cardinal.
    return re.sub(r"(?<![\d,.$£€¥])\b(1[1-9]\d\d|20\d\d)\b(?![\d,.]\d)",
                  lambda m: f" {_year(int(m.group(1)))} ", text)  # fmt: skip


def _abbreviations(text: str) -> str:
    def title(m: re.Match[str]) -> str:
        return _TITLES[m.group(1).lower()] + " "

    text = re.sub(r"\b(" + "|".join(_TITLES) + r")\.?\s+(?=[A-Z])", title, text, flags=re.I)
    text = re.sub(r"\bSt\.?\s+(?=[A-Z])", "Saint ", text)
    text = re.sub(r"(?<=[a-z] )St\.?(?=\W|$)", "Street", text, flags=re.I)

    def abbr(m: re.Match[str]) -> str:
        rest = m.string[m.end() :].lstrip()
        # "... etc. The next" ends a sentence: keep its full stop for the pause.
        stop = "." if not rest or rest[0].isupper() else ""
        return _ABBREVIATIONS[m.group(1).lower()] + stop + " "

    keys = "|".join(re.escape(k) for k in sorted(_ABBREVIATIONS, key=len, reverse=True))
    # Only with the full stop (or "No" before a digit): "no" and "co" are words too.
    text = re.sub(r"\b(No)\.?\s*(?=\d)", "number ", text)
    return re.sub(rf"\b({keys})\.(?=\s|$|,)", abbr, text, flags=re.I)
