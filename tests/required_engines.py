"""Engines a test cannot run without: skipped locally when missing, a failure in CI (CI=true),
where .ci/run installs every one of them, like the PostgreSQL and Redis services."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_binary(name: str, why: str = "") -> None:
    """Skip (locally) or fail (CI=true) when the program `name` is not on PATH."""
    if shutil.which(name) is not None:
        return
    message = f"{name} is not installed{f' ({why})' if why else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: engine tests must not skip)", pytrace=False)
    pytest.skip(message)
