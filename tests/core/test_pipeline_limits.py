"""The pipeline bounds the work, not just the input: speech longer than the limit is refused
after synthesis and before a single frame is rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitaphone.core.errors import SpeechTooLong
from vitaphone.core.pipeline import AnimateInputs, AnimateOptions, InputLimits, Marking, animate

EINSTEIN = Path(__file__).parent.parent / "assets" / "portraits" / "einstein.jpg"


def test_speech_over_the_limit_is_refused_before_rendering(tmp_path: Path) -> None:
    from vitaphone.core.marking.c2pa_credentials import load_or_create_credentials

    credentials = load_or_create_credentials(tmp_path / "c2pa")
    marking = Marking(watermark_payload_hex="0123456789abcdef", credentials=credentials,
                      consent_basis="self")
    inputs = AnimateInputs(portrait=EINSTEIN.read_bytes(), portrait_name="einstein.jpg",
                           text="The search and striving for truth and knowledge is one of the "
                                "highest of men's qualities.")
    options = AnimateOptions(device="cpu", limits=InputLimits(max_speech_s=2.0))
    stages: list[str] = []
    out = tmp_path / "out.mp4"
    with pytest.raises(SpeechTooLong) as refused:
        animate(inputs, options, marking, out, lambda stage, f: stages.append(stage))
    assert "the limit is 2 s of speech" in refused.value.message
    assert "render" not in stages and "speech" in stages
    assert not out.exists()
