"""Engine tests skip locally but fail in CI when the engine is missing (a broken CI setup must
not pass as a green run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
pytestmark = pytest.mark.slow  # runs pytest in a subprocess


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "failed")])
def test_a_missing_engine_skips_locally_and_fails_in_ci(tmp_path: Path, ci: str,
                                                        outcome: str) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text("from required_engines import require_binary\n\n"
                     "def test_needs_it():\n    require_binary('vitaphone-no-such-engine')\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(probe)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "CI": ci, "PYTHONPATH": str(TESTS)})
    assert f"1 {outcome}" in result.stdout, result.stdout
