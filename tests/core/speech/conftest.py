"""Fixtures for speech tests: the tiny real audio files in tests/assets/speech."""

from __future__ import annotations

from pathlib import Path

import pytest

SPEECH_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "speech"
NOISY_NARRATIVE_WORDS = (
    "our method is capable of producing satisfactory results even with audio that contains noise"
)


@pytest.fixture(scope="session")
def speech_assets() -> Path:
    return SPEECH_ASSETS


@pytest.fixture(scope="session")
def noisy_words() -> str:
    """What english_noisy_narrative.wav says (from shared/README.md)."""
    return NOISY_NARRATIVE_WORDS
