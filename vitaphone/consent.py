"""Consent bases and the exact statements users agree to.

Every render is tied to one consent record: who agreed, to which statement (version and hash of
the exact text), covering which portrait and voice sample. Bots and the CLI show `statement_for`
verbatim; a change of wording needs a new STATEMENT_VERSION so old records keep their meaning.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from vitaphone.core.errors import ConsentRequired

STATEMENT_VERSION = "2026-11-24.1"


class ConsentBasis(str, Enum):
    SELF = "self"
    PERMISSION = "permission"
    PUBLIC_DOMAIN_HISTORICAL = "public_domain_historical"


_STATEMENTS: dict[ConsentBasis, str] = {
    ConsentBasis.SELF: (
        "The face in this portrait and the voice in any sample I provide are my own. "
        "I agree that Vitaphone makes a synthetic video of me speaking the given words, "
        "labelled as AI-generated and traceable to this record."
    ),
    ConsentBasis.PERMISSION: (
        "I have the depicted person's permission to make a synthetic video of their face "
        "(and voice, if I provide a sample) speaking the given words, labelled as AI-generated "
        "and traceable to this record. I can show that permission if asked."
    ),
    ConsentBasis.PUBLIC_DOMAIN_HISTORICAL: (
        "The portrait shows a historical figure and the image is in the public domain. "
        "I will not use the video to deceive anyone; it stays labelled as AI-generated "
        "and traceable to this record."
    ),
}


def parse_basis(value: str | None) -> ConsentBasis:
    """The basis named by a user, or ConsentRequired saying why one is needed."""
    choices = ", ".join(b.value for b in ConsentBasis)
    if not value:
        raise ConsentRequired(
            "A consent basis is required: Vitaphone makes real faces say things, so every video "
            "is tied to a consent record.",
            f"Say on what basis you may animate this face: {choices}.",
        )
    try:
        return ConsentBasis(value.strip().lower())
    except ValueError:
        raise ConsentRequired(
            f"Unknown consent basis {value!r}.", f"Use one of: {choices}."
        ) from None


def statement_for(basis: ConsentBasis) -> str:
    """The exact text the user agrees to for this basis (current version)."""
    return _STATEMENTS[basis]


def statement_sha256(basis: ConsentBasis) -> str:
    return hashlib.sha256(statement_for(basis).encode("utf-8")).hexdigest()
