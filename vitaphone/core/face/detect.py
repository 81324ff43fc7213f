"""Face detection with MediaPipe's BlazeFace short-range model, run through LiteRT.

The model sees a 128 x 128 letterboxed image and finds faces that fill roughly 10-80 % of it.
A full-body figure's or a group photo's faces are far smaller than that, so the search goes on
over overlapping square tiles of 1/2, 1/4, ... of the image side, down to tiles where a face of
64 px fills 15 % of the view, and merges everything with weighted NMS (MediaPipe's own
blending suppression). It stops early once a prominent face is found: smaller faces could not
be the one to animate, and each finer level costs four times as many model runs.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from vitaphone.core.face._tflite import load_model
from vitaphone.core.face.types import FaceBox

DETECTOR_FILE = "face_detection_short_range.tflite"
INPUT_PX = 128
MIN_SCORE = 0.5
NMS_IOU = 0.3
# The model finds faces down to ~15 % of its view, so tiles of ~430 px reach 64 px faces.
FINEST_TILE_PX = 430
# Stop refining once a face this large (fraction of the image's long side) has been found.
PROMINENT_FACE = 0.1


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """The 896 anchor centres of face_detection_short_range, shape (896, 2), in [0, 1].

    MediaPipe's SsdAnchorsCalculator with num_layers 4, strides (8, 16, 16, 16), one aspect
    ratio plus one interpolated scale, fixed anchor size: layers of equal stride share a grid,
    so stride 8 gives 16x16 cells x 2 anchors and stride 16 gives 8x8 cells x 6 anchors.
    """
    strides = (8, 16, 16, 16)
    anchors: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        per_cell = 0
        while layer < len(strides) and strides[layer] == stride:
            per_cell += 2  # aspect ratio 1.0 + interpolated scale
            layer += 1
        cells = INPUT_PX // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        anchors.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(anchors).astype(np.float32)


def detect_faces(rgb: np.ndarray, *, min_score: float = MIN_SCORE) -> list[FaceBox]:
    """All faces in an H x W x 3 uint8 image, best score first, boxes and keypoints in pixels."""
    h, w = rgb.shape[:2]
    long_side = max(w, h)
    raw: list[np.ndarray] = []  # rows: x0, y0, x1, y1, 6 x (kx, ky), score (image pixels)
    side = long_side
    while True:
        for x0, y0 in _tile_origins(w, h, side):
            dets = _detect_window(rgb, x0, y0, side)
            if side < long_side:
                dets = _drop_cut_faces(dets, x0, y0, side, w, h)
            raw.append(dets[dets[:, 16] >= min_score])
        if side <= FINEST_TILE_PX or _has_prominent_face(raw, long_side):
            break
        side //= 2
    dets = np.concatenate(raw) if raw else np.zeros((0, 17), np.float32)
    return [_to_facebox(d) for d in weighted_nms(dets, NMS_IOU)]


def _has_prominent_face(raw: list[np.ndarray], long_side: int) -> bool:
    found = np.concatenate(raw)
    sides = np.minimum(found[:, 2] - found[:, 0], found[:, 3] - found[:, 1])
    return bool(((sides >= PROMINENT_FACE * long_side) & (found[:, 16] >= 0.75)).any())


def _tile_origins(w: int, h: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of square windows of `side` covering the image with 50 % overlap
    (one window at (0, 0) when it covers everything; it may extend past the image, padded black)."""
    step = max(1, side // 2)
    return [(x0, y0) for y0 in _starts(h, side, step) for x0 in _starts(w, side, step)]


def _starts(length: int, side: int, step: int) -> list[int]:
    if side >= length:
        return [0]
    starts = list(range(0, length - side, step))
    return starts + [length - side]


def _detect_window(rgb: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """Run the detector on one square window; returns (n, 17) rows in image pixels."""
    h, w = rgb.shape[:2]
    crop = rgb[y0 : min(y0 + side, h), x0 : min(x0 + side, w)]
    scale = INPUT_PX / side
    ch, cw = crop.shape[:2]
    rw, rh = max(1, round(cw * scale)), max(1, round(ch * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas = np.zeros((INPUT_PX, INPUT_PX, 3), np.float32)
    canvas[:rh, :rw] = cv2.resize(crop, (rw, rh), interpolation=interp)
    x = canvas[None] / 127.5 - 1.0
    out = load_model(DETECTOR_FILE).run(x)
    regs, logits = out["regressors"][0], out["classificators"][0, :, 0]
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100.0, 100.0)))
    keep = scores >= MIN_SCORE * 0.8
    dets = decode_boxes(regs[keep], ssd_anchors()[keep])  # (n, 16) in [0, 1] of the window
    # Canvas-normalised -> image pixels: the canvas spans `side` image pixels from (x0, y0).
    dets[:, 0::2] = dets[:, 0::2] * side + x0
    dets[:, 1::2] = dets[:, 1::2] * side + y0
    return np.concatenate([dets, scores[keep, None]], axis=1).astype(np.float32)


def decode_boxes(regs: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Raw regressors (n, 16) + anchor centres (n, 2) -> (n, 16) normalised
    [x0, y0, x1, y1, kx0, ky0, ..., kx5, ky5] (MediaPipe TensorsToDetections, scale 128)."""
    r = regs.astype(np.float32) / INPUT_PX
    cx = r[:, 0] + anchors[:, 0]
    cy = r[:, 1] + anchors[:, 1]
    half_w, half_h = r[:, 2] / 2, r[:, 3] / 2
    out = np.empty_like(r)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    out[:, 4::2] = r[:, 4::2] + anchors[:, :1]
    out[:, 5::2] = r[:, 5::2] + anchors[:, 1:2]
    return out


def _drop_cut_faces(
    dets: np.ndarray, x0: int, y0: int, side: int, w: int, h: int
) -> np.ndarray:
    """A tile sees half faces at its edges; keep only boxes well inside the tile (image edges
    excepted) so that a half face never competes with the whole one."""
    margin = 0.02 * side
    lo_x = x0 + margin if x0 > 0 else -np.inf
    lo_y = y0 + margin if y0 > 0 else -np.inf
    hi_x = x0 + side - margin if x0 + side < w else np.inf
    hi_y = y0 + side - margin if y0 + side < h else np.inf
    inside = (dets[:, 0] > lo_x) & (dets[:, 1] > lo_y) & (dets[:, 2] < hi_x) & (dets[:, 3] < hi_y)
    return dets[inside]


def weighted_nms(dets: np.ndarray, iou_threshold: float) -> list[np.ndarray]:
    """MediaPipe's WEIGHTED suppression: each cluster of overlapping boxes (IoU > threshold
    with the best remaining one) is replaced by the score-weighted mean of its coordinates,
    keeping the best score. dets: (n, 17) with the score last. Returns rows, best first."""
    order = np.argsort(-dets[:, 16])
    remaining = dets[order]
    kept: list[np.ndarray] = []
    while len(remaining):
        best = remaining[0]
        ious = box_iou(best[:4], remaining[:, :4])
        ious[0] = 1.0  # the best box is in its own cluster even if degenerate
        cluster = remaining[ious > iou_threshold]
        weights = cluster[:, 16:17]
        merged = best.copy()
        merged[:16] = (cluster[:, :16] * weights).sum(axis=0) / weights.sum()
        kept.append(merged)
        remaining = remaining[ious <= iou_threshold]
    return kept


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box (4,) against many (n, 4)."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _to_facebox(row: np.ndarray) -> FaceBox:
    return FaceBox(
        box_xyxy=(float(row[0]), float(row[1]), float(row[2]), float(row[3])),
        score=float(row[16]),
        keypoints_xy=row[4:16].reshape(6, 2).astype(np.float32),
    )
