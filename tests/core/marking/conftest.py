"""Fixtures for the marking tests (helpers live in clips.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, ken_burns


@pytest.fixture(scope="session")
def portrait_clip() -> np.ndarray:
    """75 frames (3 s at 25 fps), 256x256, over the Mona Lisa."""
    return ken_burns(ASSETS / "portraits" / "mona_lisa.jpg", 75)
