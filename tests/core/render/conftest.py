"""Real portraits and their meshes for the renderer tests (analysed once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.image_io import load_portrait_file
from vitaphone.core.face.types import FaceMesh, Portrait

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "portraits"


def _load(name: str) -> tuple[Portrait, FaceMesh]:
    portrait = load_portrait_file(ASSETS / name)
    return portrait, analyze_face(portrait)


@pytest.fixture(scope="session")
def einstein() -> tuple[Portrait, FaceMesh]:
    return _load("einstein.jpg")


@pytest.fixture(scope="session")
def mona_lisa() -> tuple[Portrait, FaceMesh]:
    return _load("mona_lisa.jpg")


@pytest.fixture(scope="session")
def woman_in_black() -> tuple[Portrait, FaceMesh]:
    """A small face in a large picture."""
    return _load("woman_in_black_standing.jpg")
