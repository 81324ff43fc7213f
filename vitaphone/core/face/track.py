"""Mesh tracking through video frames (MediaPipe's detect-once-then-follow loop).

Used to measure real footage (the MEAD emotion clips) and rendered frames: the first frame is
analysed with the full detector; each later frame is cropped around the previous mesh, and the
detector runs again only when the face is lost (presence below 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from vitaphone.core.face.analyze import MIN_PRESENCE, choose_face, find_faces
from vitaphone.core.face.mesh import fit_mesh, rect_from_landmarks, run_mesh


def track_meshes(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray | None]:
    """For each H x W x 3 uint8 frame, the (468, 3) float32 mesh of the main face in frame
    pixels, or None where no face is visible."""
    previous: np.ndarray | None = None
    for rgb in frames:
        mesh = None
        if previous is not None:
            mesh, presence = run_mesh(rgb, rect_from_landmarks(previous))
            if presence < MIN_PRESENCE:
                mesh = None
            else:  # a second pass centres the crop on this frame's own face
                mesh, _ = run_mesh(rgb, rect_from_landmarks(mesh))
        if mesh is None:
            faces = find_faces(rgb)
            if faces:
                mesh, _ = fit_mesh(rgb, choose_face(faces, rgb.shape[:2]))
        previous = mesh
        yield mesh
