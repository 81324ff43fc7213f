"""Bounds on what a user may send: the core's numbers, also the defaults of `Settings.limits`.

Its own module, with no imports, so the settings (which the core never imports) can take their
defaults from here without loading numpy through `request.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what a user may send (from Settings.limits in the app layer)."""

    max_portrait_bytes: int = 10 * 1024 * 1024
    max_portrait_pixels: int = 40_000_000
    max_quote_chars: int = 300
    max_audio_s: float = 30.0
    min_voice_sample_s: float = 5.0
    max_voice_sample_s: float = 60.0
    max_speech_s: float = 30.0
