"""espeak-ng phonemes (as IPA) onto the product's ARPAbet phone set.

espeak-ng reports each phoneme event as an IPA string of up to 8 bytes (we initialise it with
espeakINITIALIZE_PHONEME_IPA: IPA is the same across its 100+ languages, its own mnemonics are
not). The mouth only needs the nearest English phone, chosen by articulation:

- Vowels by height, backness and lip rounding: front rounded vowels become the rounded English
  vowel of the same height (y -> UW, ʏ/ø/œ -> UH), open vowels AA/AE, central vowels AH/ER.
- Consonants by place and manner: palatal/velar/uvular/pharyngeal fricatives -> HH (no visible lip
  or tongue-tip shape), taps and flaps -> D, trills and approximant r's -> R, palatal nasal -> N,
  palatal lateral -> L, retroflex/alveolo-palatal sibilants -> SH/ZH, ɥ -> W (rounded glide).
- Affricates that English has (tʃ, dʒ) are one phone; others split into their two phones over the
  event's span (ts -> T S, pf -> P F). Diphthongs map onto ARPAbet's diphthongs where one exists
  (aɪ -> AY, aʊ -> AW, ɔɪ/ɔʏ -> OY, eɪ -> EY, oʊ/əʊ -> OW), else split (ɪə -> IH AH).
- Stress, length, tone and other diacritics are dropped; an empty event is a pause (SIL).
- A language-switch marker such as "(en)" (espeak reading a foreign word) is no phone at all:
  `ipa_to_arpabet` returns () and the previous phone runs on.
- A symbol not in these tables (rare letters of rare languages) falls back by its first mapped
  character, and failing that to AH, a neutral half-open mouth: never an error mid-synthesis.
"""

from __future__ import annotations

import unicodedata

from vitaphone.core.speech.types import SILENCE

_MULTI: dict[str, tuple[str, ...]] = {
    "tʃ": ("CH",), "dʒ": ("JH",), "tɕ": ("CH",), "dʑ": ("JH",), "tʂ": ("CH",), "dʐ": ("JH",),
    "ʈʂ": ("CH",), "ɖʐ": ("JH",), "ts": ("T", "S"), "dz": ("D", "Z"), "pf": ("P", "F"),
    "tɬ": ("T", "L"), "kx": ("K", "HH"),
    "aɪ": ("AY",), "ai": ("AY",), "ɑɪ": ("AY",), "aj": ("AY",), "ʌɪ": ("AY",),
    "aʊ": ("AW",), "au": ("AW",), "ɑʊ": ("AW",), "aw": ("AW",),
    "ɔɪ": ("OY",), "ɔʏ": ("OY",), "oi": ("OY",), "ɔy": ("OY",), "oj": ("OY",),
    "eɪ": ("EY",), "ei": ("EY",), "ej": ("EY",), "ɛɪ": ("EY",),
    "oʊ": ("OW",), "əʊ": ("OW",), "ou": ("OW",), "ow": ("OW",), "eʊ": ("OW",), "ɔʊ": ("OW",),
    "ɐʊ": ("AW",), "ɛʊ": ("AW",), "æi": ("AY",), "ɐɪ": ("AY",), "ɛi": ("EY",), "œy": ("OY",),
    "øy": ("OY",), "œʏ": ("OY",), "ɨu": ("UW",), "iu": ("UW",),
    "ɪə": ("IH", "AH"), "eə": ("EH", "AH"), "ɛə": ("EH", "AH"), "ʊə": ("UH", "AH"),
    "iə": ("IY", "AH"), "uə": ("UW", "AH"), "ie": ("IY", "EH"), "uo": ("UW", "OW"),
}  # fmt: skip
_SINGLE: dict[str, str] = {
    # vowels
    "i": "IY", "ɪ": "IH", "ɨ": "IH", "ʉ": "UW", "y": "UW", "ʏ": "UH", "e": "EY", "ɛ": "EH",
    "æ": "AE", "a": "AA", "ɑ": "AA", "ɒ": "AA", "ɐ": "AH", "ə": "AH", "ʌ": "AH",
    "ɘ": "AH", "ɤ": "AH", "ɜ": "ER", "ɞ": "ER", "ɚ": "ER", "ɝ": "ER", "ø": "UH", "œ": "UH",
    "ɶ": "AA", "ɵ": "UH", "ɔ": "AO", "o": "OW", "u": "UW", "ʊ": "UH", "ɯ": "UW",
    # plosives
    "p": "P", "b": "B", "t": "T", "d": "D", "ʈ": "T", "ɖ": "D", "c": "K", "ɟ": "G", "k": "K",
    "g": "G", "ɡ": "G", "q": "K", "ɢ": "G", "ʔ": "T",
    # nasals
    "m": "M", "ɱ": "M", "n": "N", "ɳ": "N", "ɲ": "N", "ŋ": "NG", "ɴ": "NG",
    # fricatives
    "f": "F", "v": "V", "ɸ": "F", "β": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z",
    "ʃ": "SH", "ʒ": "ZH", "ʂ": "SH", "ʐ": "ZH", "ɕ": "SH", "ʑ": "ZH", "ç": "HH", "ʝ": "Y",
    "x": "HH", "ɣ": "G", "χ": "HH", "ʁ": "R", "ħ": "HH", "ʕ": "HH", "h": "HH", "ɦ": "HH",
    "ɬ": "L", "ɮ": "L", "ɧ": "SH",
    # approximants, taps, trills, laterals
    "ʋ": "V", "ɹ": "R", "ɻ": "R", "j": "Y", "ɰ": "W", "w": "W", "ɥ": "W", "r": "R", "ʀ": "R",
    "ɾ": "D", "ɽ": "D", "ⱱ": "V", "l": "L", "ɫ": "L", "ɭ": "L", "ʎ": "L", "ʟ": "L",
}  # fmt: skip
# Marks that change length, stress, tone or phonation but not the mouth shape.
_DROP = set("ˈˌːˑ˞ʰʲʷˠˤᵝ̃͡‿|'`-_ˀ˥˦˧˨˩↗↘012345.")
FALLBACK = "AH"


def _base(ipa: str) -> str:
    """The IPA letters of a phoneme: diacritics (combining marks), stress, length, tones dropped.

    Letters that are phones in their own right keep their marks (ç is not c + cedilla).
    """
    out = []
    for ch in unicodedata.normalize("NFC", ipa):
        if ch in _SINGLE:
            out.append(ch)
            continue
        out.extend(
            c for c in unicodedata.normalize("NFD", ch)
            if not unicodedata.combining(c) and c not in _DROP and not c.isspace()
        )  # fmt: skip
    return "".join(out)


def ipa_to_arpabet(ipa: str) -> tuple[str, ...]:
    """ARPAbet phones (one or two) for one espeak-ng IPA phoneme; ("SIL",) for a pause; () for a
    language-switch marker."""
    if ipa.startswith("(") and ipa.endswith(")"):
        return ()  # language switch marker
    base = _base(ipa)
    if not base:
        return (SILENCE,)
    if base in _MULTI:
        return _MULTI[base]
    if base in _SINGLE:
        return (_SINGLE[base],)
    # Two letters that are each phones (e.g. "ks" from some languages' rules): both, in order.
    if len(base) == 2 and all(ch in _SINGLE for ch in base):
        return (_SINGLE[base[0]], _SINGLE[base[1]])
    for ch in base:
        if ch in _SINGLE:
            return (_SINGLE[ch],)
    return (FALLBACK,)
