"""Face analysis stage: portrait -> the chosen face's dense mesh and head pose.

`analyze_face` finds every face, confirms each with the mesh model's presence score (paintings
give the detector false hits on hands, folds and ornaments; the mesh model rejects them), picks
the largest, most central one, and refuses faces that are too small or turned into profile.
"""

from __future__ import annotations

import math

import numpy as np

from vitaphone.core.errors import FaceInProfile, FaceTooSmall, NoFaceFound
from vitaphone.core.face import landmarks as lmk
from vitaphone.core.face._tflite import MODELS_DIR
from vitaphone.core.face.detect import detect_faces
from vitaphone.core.face.mesh import fit_mesh, rect_from_detection, run_mesh
from vitaphone.core.face.types import FaceBox, FaceMesh, Portrait

MIN_PRESENCE = 0.5
MAX_YAW_DEG = 45.0
_TRIANGLES: np.ndarray | None = None


def analyze_face(
    portrait: Portrait,
    *,
    min_face_px: int = 64,
    max_yaw_deg: float = MAX_YAW_DEG,
    name: str = "the portrait",
) -> FaceMesh:
    """Find the face to animate and fit its mesh.

    Raises NoFaceFound, FaceTooSmall (face narrower than `min_face_px` image pixels) or
    FaceInProfile (|yaw| above `max_yaw_deg`). `name` is used in those messages.
    """
    faces = find_faces(portrait.rgb)
    if not faces:
        raise NoFaceFound(
            f"No face was found in {name}.",
            "Use a clear, well-lit photo or painting of one face looking toward the camera.",
        )
    face = choose_face(faces, portrait.size_hw)
    landmarks, presence = fit_mesh(portrait.rgb, face)
    width_px = face_width_px(landmarks)
    if width_px < min_face_px:
        raise FaceTooSmall(
            f"The face in {name} is only {int(width_px)} pixels wide; at least {min_face_px} are "
            "needed.",
            "Crop the photo closer around the face, or use a higher-resolution photo.",
        )
    yaw, pitch, roll = estimate_pose(landmarks)
    if abs(yaw) > max_yaw_deg:
        raise FaceInProfile(
            f"The face in {name} is turned {abs(yaw):.0f} degrees to the side (profile view).",
            "Turn toward the camera / use a frontal photo where both eyes are clearly visible.",
        )
    return FaceMesh(
        landmarks=landmarks,
        triangles=face_triangles(),
        face=face,
        faces_found=len(faces),
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        presence=presence,
    )


def find_faces(rgb: np.ndarray) -> list[FaceBox]:
    """Detections confirmed by the mesh model (presence >= 0.5), one per distinct face.

    The tiled search can report one face twice (a tight box and a loose one that NMS does not
    merge); two detections whose meshes put the nose tip within half an eye distance of each
    other are the same face, and the better-scored one is kept.
    """
    kept: list[tuple[FaceBox, np.ndarray, float]] = []  # face, nose tip xy, interocular px
    for face in detect_faces(rgb):  # best score first
        landmarks, presence = run_mesh(rgb, rect_from_detection(face))
        if presence < MIN_PRESENCE:
            continue
        nose, eye_px = landmarks[lmk.NOSE_TIP, :2], lmk.interocular_px(landmarks)
        if all(np.linalg.norm(nose - n) > 0.5 * max(eye_px, e) for _, n, e in kept):
            kept.append((face, nose, eye_px))
    return [face for face, _, _ in kept]


def choose_face(faces: list[FaceBox], size_hw: tuple[int, int]) -> FaceBox:
    """The largest, most central face: size (box side) discounted by up to half for distance
    from the image centre, so a slightly smaller face in the middle beats one at the edge."""
    h, w = size_hw
    half_diag = math.hypot(w, h) / 2

    def merit(f: FaceBox) -> float:
        x0, y0, x1, y1 = f.box_xyxy
        side = math.sqrt(max(x1 - x0, 0.0) * max(y1 - y0, 0.0))
        off = math.hypot((x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2) / half_diag
        return side * (1.0 - 0.5 * min(off, 1.0))

    return max(faces, key=merit)


def face_width_px(landmarks: np.ndarray) -> float:
    """Face width in pixels: cheek edge to cheek edge of the oval, at least 2.2x the eye span
    (which does not shrink as much in a three-quarter view)."""
    xy = landmarks[:, :2]
    oval = float(np.linalg.norm(xy[lmk.FACE_SIDE_LEFT] - xy[lmk.FACE_SIDE_RIGHT]))
    return max(oval, 2.2 * lmk.interocular_px(landmarks))


def estimate_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from the mesh's 3D points, in MotionTrack's conventions:
    yaw + = the subject turns to their left (nose toward image right), pitch + = looks down,
    roll + = head tilted clockwise in the image.

    The face's axes come from the eye corners (x) and forehead-to-chin (y); the normal is
    their cross product. The mesh's z is a relative depth, so these are rough angles
    (a few degrees), enough to refuse profiles and to seed the renderer's 3D rotation.
    """
    p = landmarks.astype(np.float64)
    ex = p[lmk.LEFT_EYE_OUTER] - p[lmk.RIGHT_EYE_OUTER]
    ex /= np.linalg.norm(ex)
    down = p[lmk.CHIN] - p[lmk.FOREHEAD_TOP]
    ey = down - ex * float(down @ ex)
    ey /= np.linalg.norm(ey)
    ez = np.cross(ex, ey)  # into the screen for a frontal face (image x right, y down, z far)
    forward = -ez  # where the nose points
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(ex[1], ex[0]))
    return yaw, pitch, roll


def face_triangles() -> np.ndarray:
    """The mesh tessellation, (852, 3) int32 vertex indices (loaded once)."""
    global _TRIANGLES
    if _TRIANGLES is None:
        _TRIANGLES = np.load(MODELS_DIR / "triangles_852.npy").astype(np.int32)
        _TRIANGLES.setflags(write=False)
    return _TRIANGLES
