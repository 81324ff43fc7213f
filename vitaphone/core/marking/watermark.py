"""Invisible video watermark: a 64-bit payload in the luma of every frame, read back by a vote.

Why not `invisible-watermark`: its dwtDct mark lives in a chroma channel and does not survive
H.264 (see STACK.md). This one:

- works on a fixed 128x128 "working grid" of the luma (the frame resized, whatever its size or
  aspect), so a rescaled copy maps onto the same grid;
- splits the grid into 8x8 blocks and quantises (dithered QIM) six low-frequency DCT
  coefficients of each block, where H.264 and downscaling leave them intact;
- puts the 306-bit codeword (payload + CRC-32, rate-1/3 convolutional code, `ecc.py`) into
  1536 slots per frame through a keyed permutation (every bit ~5 times, spread over the frame);
- shapes the change by a perceptual mask (`masking.py`): full strength in texture, none in flat
  areas; each block's change is solved so that the masked residual still moves its
  coefficients onto the lattice (texture nearby carries what the flat part cannot), and each
  frame's change is kept within an MSE budget (PSNR >= 42 dB), moving and partly flat blocks
  giving way first (a re-encoder keeps a frame-fixed mark where the picture stands still);
- lets the detector find where a cropped, mirrored or rescaled copy sits in the original frame
  by the lattice itself (`resync.py`);
- adds the luma change back at full resolution as a smooth upsampled residual, equally to R, G
  and B (which changes luma only: every RGB->YUV matrix's luma row sums to 1);
- embeds the same codeword in every frame, so trimming does not matter, and the detector
  averages soft votes over frames (weighted by the mask it recomputes) before the
  soft-decision Viterbi decoder and the CRC check.

Arrays: frames `rgb` (n, H, W, 3) uint8; luma and grids float32.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from vitaphone.core.marking import ecc
from vitaphone.core.marking.masking import texture_mask

GRID = 128
BLOCK = 8
_BLOCKS = GRID // BLOCK
# (row, col) frequencies of the 8x8 DCT on the working grid: 0.5-1 cycles per block, i.e. per
# 32 px of a 512 px frame or 16 px of a 256 px frame halved to 128 px. A 256 grid with higher
# frequencies measured fine at 512 px but failed on 256 px renders re-encoded at half size.
_COEFFS = ((0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2))
STEP = 30.0  # QIM step on orthonormal DCT coefficients
STRENGTH = 1.0  # share of the way to the lattice point (1: plain QIM measured best)
_RIDGE = 0.03  # regularises the masked solve (0.25 left textured blocks at 80 % of the step)
_FULL_BLOCK = 0.7  # a block whose mask averages this much or more gets the full change
_MAX_RESIDUAL = 14.0
# Mean squared luma change per frame on the grid; the upsampled change measures ~25 % less, so
# 5.2 keeps PSNR at ~42.2 dB on portraits textured all over (target 42). The one knob that
# trades invisibility for robustness (docs/marks_bench.md).
MSE_BUDGET = 5.2  # grey levels on the grid, after masking
# Which blocks the budget keeps first (`_budget_priority`): blocks whose mask averages at least
# _TEXTURED_BLOCK, the stillest first; a mean frame-to-frame change of _STILL_GREY grey levels
# on the grid halves a block's priority.
_TEXTURED_BLOCK = 0.6
_STILL_GREY = 0.5
_STILL_WINDOW = 32  # frames: the blocks that keep the mark change once a window (MotionHistory)
_KEY = 0x56495441  # "VITA": a fixed key; the mark is meant to be readable by anyone's verifier
_CHUNK = 32  # frames per batch: bounds memory at ~50 MB for 512 px frames
# Detection: CRC match and a codeword that agrees with the votes far better than chance.
# The CRC-32 is the real guard (a random payload passes it once in 4e9); the agreement check
# only adds margin. Unmarked videos read 0.25-0.4, marked copies after a 480p CRF 30 re-encode
# up to ~0.23 (ROC in docs/marks_bench.md).
MAX_RAW_BER = 0.25
_VOTE_FLOOR = 0.05  # weight of a slot in a flat block: flat videos still vote


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    mat = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    mat[0] /= np.sqrt(2.0)
    return mat


_D = _dct_matrix(BLOCK)
# (64, n_coeffs): each column is one 8x8 DCT basis image, flattened; orthonormal.
_BASIS = np.stack([np.outer(_D[u], _D[v]).reshape(-1) for u, v in _COEFFS], axis=1).astype(
    np.float32
)
N_SLOTS = _BLOCKS * _BLOCKS * len(_COEFFS)
# (64, n_coeffs^2): B^T diag(m) B of a block is m @ _GRAM_TERMS (one matmul for all blocks).
_GRAM_TERMS = np.einsum("pk,pl->pkl", _BASIS, _BASIS).reshape(BLOCK * BLOCK, -1)


def _layout() -> tuple[np.ndarray, np.ndarray]:
    """Keyed slot layout: (N_SLOTS,) coded-bit index and (N_SLOTS,) dither in [0, STEP)."""
    # The legacy RandomState, not default_rng: its streams are frozen across NumPy versions,
    # and a layout that changed with an upgrade would orphan every video already marked.
    rng = np.random.RandomState(_KEY)
    bit_of_slot = rng.permutation(N_SLOTS) % ecc.CODED_BITS
    dither = rng.uniform(0.0, STEP, N_SLOTS).astype(np.float32)
    return bit_of_slot, dither


_BIT_OF_SLOT, _DITHER = _layout()


@dataclass(frozen=True)
class WatermarkReading:
    """What the detector found.

    found: a payload passed the CRC and the vote agreement check; payload_hex is then the
    16-hex-digit payload (None otherwise). raw_ber: share of coded bits whose frame-averaged vote
    disagrees with the decoded codeword (0 = clean; >= 0.2 for an unmarked video, where the
    decoder's best path still fits noise better than chance).
    confidence: mean agreement of the slot votes with the decoded codeword, in [-1, 1].
    view_box: the part (x0, y0, x1, y1) of the original frame the frames show, relative;
    mirrored: whether they show it mirrored left-right (both as the detector found them).
    crc_ok: the decoded payload passed the CRC (found also needs raw_ber <= MAX_RAW_BER).
    """

    found: bool
    payload_hex: str | None
    raw_ber: float
    confidence: float
    frames_used: int
    view_box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    mirrored: bool = False
    crc_ok: bool = False


# --- shared transforms ------------------------------------------------------------------------
def _luma(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint8 BT.601 luma; the rounding averages out on the grid."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _to_grid(image: np.ndarray, size: int = GRID) -> np.ndarray:
    return cv2.resize(
        image.astype(np.float32, copy=False), (size, size), interpolation=cv2.INTER_AREA
    )


def _blocks(grids: np.ndarray) -> np.ndarray:
    """(n, GRID, GRID) -> (n, blocks, 64), block = row * _BLOCKS + col."""
    n = grids.shape[0]
    blocks = grids.reshape(n, _BLOCKS, BLOCK, _BLOCKS, BLOCK).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(n, -1, BLOCK * BLOCK)


def _unblocks(blocks: np.ndarray) -> np.ndarray:
    """(n, blocks, 64) -> (n, GRID, GRID): the inverse of `_blocks`."""
    n = blocks.shape[0]
    grid = blocks.reshape(n, _BLOCKS, _BLOCKS, BLOCK, BLOCK).transpose(0, 1, 3, 2, 4)
    return grid.reshape(n, GRID, GRID)


def _coefficients(grids: np.ndarray) -> np.ndarray:
    """(n, GRID, GRID) -> (n, N_SLOTS) selected DCT coefficients, slot = block * n_coeffs + k."""
    return (_blocks(grids) @ _BASIS).reshape(grids.shape[0], N_SLOTS)


# --- embedding --------------------------------------------------------------------------------
class MotionHistory:
    """Where the picture of a clip has stood still so far, for marking it in batches.

    Which blocks keep the mark (`_budget_priority`) changes only every _STILL_WINDOW frames,
    from the motion measured over the previous window: a mark that stays in the same blocks
    frame after frame is what a re-encoder keeps (deciding per frame from a sliding window read
    0.12 raw BER on the chat-app test copy; a fixed choice per window 0.06). Counting frames
    from the clip's start makes the choice independent of where batches split, so a streamed
    finish marks exactly like the whole clip at once. The first window has no motion yet."""

    def __init__(self) -> None:
        self.frames = 0
        self.last_grid: np.ndarray | None = None
        self.window_sum = np.zeros(_BLOCKS * _BLOCKS, np.float64)
        self.window_steps = 0
        self.still = np.ones(_BLOCKS * _BLOCKS, np.float32)

    def stillness(self, grids: np.ndarray) -> np.ndarray:
        """(n, GRID, GRID) grids of the next frames -> (n, blocks) in (0, 1]: 1 where the
        picture stood still over the last window, 1/(1 + mean |step| / _STILL_GREY) where it
        moved. Updates the history."""
        out = np.empty((len(grids), _BLOCKS * _BLOCKS), np.float32)
        for i, grid in enumerate(grids):
            if self.window_steps and _updates_at(self.frames):
                motion = self.window_sum / self.window_steps
                self.still = (1.0 / (1.0 + motion / _STILL_GREY)).astype(np.float32)
            if self.last_grid is not None:
                step = _blocks(np.abs(grid - self.last_grid)[None])[0].mean(1)
                self.window_sum += step
                self.window_steps += 1
            out[i] = self.still
            self.last_grid = grid
            self.frames += 1
        return out


def _updates_at(frame: int) -> bool:
    """Frames where the choice of blocks is renewed: early and then rarely (2, 4, 8, 16, 32,
    then every _STILL_WINDOW), so it is informed soon and then stays put."""
    return frame >= 2 and (frame & (frame - 1) == 0 and frame <= _STILL_WINDOW
                           or frame % _STILL_WINDOW == 0)  # fmt: skip


def embed_watermark(
    rgb: np.ndarray,
    payload_hex: str,
    *,
    in_place: bool = False,
    history: MotionHistory | None = None,
) -> np.ndarray:
    """Watermark frames (n, H, W, 3) uint8 with `payload_hex` (16 hex digits).

    Returns a marked copy, or marks `rgb` itself with `in_place=True` (saves allocating and
    touching another n*H*W*3 bytes: a third of the cost at 512 px). Batches of one clip pass the
    same `history` (it is updated), or each batch is marked as if the clip started there.
    """
    codeword = ecc.encode_payload(payload_hex)
    slot_bits = codeword[_BIT_OF_SLOT].astype(np.float32)
    offset = _DITHER + slot_bits * (STEP / 2)  # QIM lattice of each slot: offset + k * STEP
    out = rgb if in_place else np.empty_like(rgb)
    chunks = [slice(start, start + _CHUNK) for start in range(0, rgb.shape[0], _CHUNK)]
    # Two passes: the grids and masks of every frame (before any pixel changes: stillness looks
    # back across chunk edges), then each chunk's residual. Chunks run on threads (OpenCV
    # releases the GIL).
    run = (lambda f, items: [f(i) for i in items]) if len(chunks) == 1 else (
        lambda f, items: list(_pool().map(f, items))
    )
    measured = run(lambda part: _grids_and_masks(rgb[part]), chunks)
    grids = np.concatenate([g for g, _ in measured])
    still = (history if history is not None else MotionHistory()).stillness(grids)
    run(
        lambda i: _embed_chunk(rgb[chunks[i]], measured[i], still[chunks[i]], offset,
                               out[chunks[i]]),
        range(len(chunks)),
    )  # fmt: skip
    return out


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Threads for embedding chunks (at most 8: the per-frame work is small)."""
    return ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1),
                              thread_name_prefix="watermark")


def _grids_and_masks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, H, W, 3) -> the (n, GRID, GRID) working grids and texture masks."""
    lumas = [_luma(frame) for frame in rgb]
    return np.stack([_to_grid(y) for y in lumas]), np.stack([texture_mask(y, GRID) for y in lumas])


def _embed_chunk(rgb: np.ndarray, measured: tuple[np.ndarray, np.ndarray], still: np.ndarray,
                 offset: np.ndarray, out: np.ndarray) -> None:  # fmt: skip
    height, width = rgb.shape[1:3]
    grids, masks = measured
    # Upsampling the grid pattern to full size and the detector's downsampling blur it a little:
    # pre-divide by each coefficient's measured gain through that round trip.
    gain = np.tile(_round_trip_gain(height, width), N_SLOTS // len(_COEFFS))
    coeffs = _coefficients(grids)
    target = offset + np.round((coeffs - offset) / STEP) * STEP
    wanted = STRENGTH * (target - coeffs) / gain
    priority = _budget_priority(_blocks(masks).mean(2), still)
    residual = _masked_pattern(wanted, masks)
    np.clip(residual, -_MAX_RESIDUAL, _MAX_RESIDUAL, out=residual)
    _within_budget(residual, priority)
    for frame, grid_residual, dst in zip(rgb, residual, out):
        _add_residual(frame, grid_residual, dst)


def _masked_pattern(wanted: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(n, N_SLOTS) coefficient changes + (n, GRID, GRID) masks -> (n, GRID, GRID) residual
    m * (B x) whose coefficients B^T (m * B x) come as close to `wanted` as the mask allows:
    per block, (B^T diag(m) B + ridge I) x = wanted (a mostly flat block gets a weak change,
    carried by its textured pixels)."""
    n, k = wanted.shape[0], len(_COEFFS)
    m = _blocks(masks)  # (n, blocks, 64)
    # A block with little texture gets a proportionally smaller change: forcing it fully would
    # pile the whole change onto its few textured pixels (costly, and visible at their edge).
    share = np.clip(m.mean(2) / _FULL_BLOCK, 0.0, 1.0)  # (n, blocks)
    wanted = wanted.reshape(n, -1, k) * share[..., None]
    x = np.zeros_like(wanted)
    some = share > 0  # flat blocks: nothing to solve
    # einsum, not a BLAS matmul: one GEMM over however many blocks this batch holds may sum
    # in another order than over another batch's, and streamed marks must equal whole ones.
    gram = np.einsum("bi,ij->bj", m[some], _GRAM_TERMS).reshape(-1, k, k)
    gram += _RIDGE * np.eye(k, dtype=np.float32)
    x[some] = np.linalg.solve(gram, wanted[some][..., None])[..., 0]
    return _unblocks(m * (x @ _BASIS.T)).astype(np.float32)


def _budget_priority(texture: np.ndarray, still: np.ndarray) -> np.ndarray:
    """(n, blocks) mean mask of each block + (n, blocks) stillness (`MotionHistory`) -> (n, blocks)
    which blocks keep their change first when the budget binds: textured blocks where the
    picture stands still, then textured moving ones, partly flat blocks last.

    Why stillness: a re-encoder predicts each frame from the previous one along the picture's
    motion and drops residuals of a few grey levels at CRF 30-32, so a mark fixed to the frame
    survives where the picture stands still (measured at 360p CRF 32: 81 % of the mark kept)
    and is dragged away with it where it moves (15-30 % kept after a few frames). Partly flat
    blocks stay last whatever their motion: moving them up spilled onto flat areas (0.64
    grey levels on the Qing painting)."""
    return np.where(texture >= _TEXTURED_BLOCK, texture * still, texture * 0.05)


def _within_budget(residual: np.ndarray, priority: np.ndarray) -> None:
    """Keep each frame's mean squared change under MSE_BUDGET (in place): a frame textured all
    over would otherwise take the full change everywhere. The blocks of lowest (n, blocks)
    `priority` go first, whole (a weaker change in every block would leave every vote weak)."""
    n = residual.shape[0]
    energy = (_blocks(residual) ** 2).sum(2)  # (n, blocks)
    order = np.argsort(-priority, axis=1)
    spent = np.cumsum(np.take_along_axis(energy, order, axis=1), axis=1)
    over = spent > MSE_BUDGET * GRID * GRID
    if not over.any():
        return
    drop = np.zeros_like(over)
    np.put_along_axis(drop, order, over, axis=1)
    blocks = _blocks(residual)
    blocks[drop] = 0.0
    residual[:] = _unblocks(blocks)


@lru_cache(maxsize=16)
def _round_trip_gain(height: int, width: int) -> np.ndarray:
    """(n_coeffs,) how much of a grid coefficient change survives upsampling to (height, width)
    and area-downsampling back to the grid, measured on a random pattern."""
    rng = np.random.default_rng(0)
    delta = rng.normal(0.0, 1.0, (1, N_SLOTS)).astype(np.float32)
    pattern = _unblocks((delta.reshape(1, -1, len(_COEFFS)) @ _BASIS.T).astype(np.float32))
    full = cv2.resize(pattern[0], (width, height), interpolation=cv2.INTER_LINEAR)
    seen = _coefficients(_to_grid(full)[None])
    by_coeff = (seen * delta).reshape(-1, len(_COEFFS)).sum(0) / (delta**2).reshape(
        -1, len(_COEFFS)
    ).sum(0)
    return by_coeff.astype(np.float32)


def _add_residual(frame: np.ndarray, grid_residual: np.ndarray, dst: np.ndarray) -> None:
    """dst = frame + the (GRID, GRID) residual upsampled to the frame, on all three channels,
    rounded and saturated (dst may be frame).

    The residual is split into its positive and negative parts as uint8 on the grid, so that
    the full-size work is uint8 resizing and OpenCV's saturating add/subtract: measured 1.3x
    faster than resizing in float, 5x faster than int16 numpy arithmetic on three channels."""
    height, width = frame.shape[:2]
    for part, combine in ((cv2.THRESH_TOZERO, cv2.add), (cv2.THRESH_TOZERO_INV, cv2.subtract)):
        magnitude = cv2.convertScaleAbs(cv2.threshold(grid_residual, 0, 0, part)[1])
        full = cv2.resize(magnitude, (width, height), interpolation=cv2.INTER_LINEAR)
        combine(frame, cv2.cvtColor(full, cv2.COLOR_GRAY2RGB), dst=dst)
        frame = dst


# --- detection --------------------------------------------------------------------------------
def detect_watermark(rgb: np.ndarray, *, search: bool = True) -> WatermarkReading:
    """Read the payload from decoded frames (n, H, W, 3) uint8: any size, re-encoded, rescaled,
    trimmed, cropped (up to ~15 % off any side) or mirrored. Tries the frame as it is first,
    then (with `search`) where the lattice says the frames sit (`resync.py`)."""
    from vitaphone.core.marking.resync import detect_resynchronised

    lumas = [_luma(frame) for frame in rgb]
    best = read_grids([_to_grid(y) for y in lumas], [texture_mask(y, GRID) for y in lumas])
    if best.found or not search:
        return best
    found = detect_resynchronised(lumas)
    return found if found.found or found.confidence > best.confidence else best


def read_grids(
    grids: list[np.ndarray],
    masks: list[np.ndarray],
    usable: np.ndarray | None = None,
    view_box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
    mirrored: bool = False,
) -> WatermarkReading:
    """Decode from (GRID, GRID) luma grids in the original frame's geometry, their texture masks,
    and the (N_SLOTS,) slots that are in view (all by default).

    Two readings, the better kept: votes of every frame averaged (survives motion), and the
    vote of the frames' average (static content: averaging the coefficients first cancels the
    encoder's noise before the lattice is read, worth ~2x in noise)."""
    coeffs = _coefficients(np.stack(grids))
    texture = _blocks(np.stack(masks)).mean(2)  # (n, blocks)
    # Which blocks carry the mark at all (the budget leaves some textured ones out): their
    # slots sit on the double lattice whatever the payload; unmarked blocks average ~0.
    on_lattice = np.cos(4 * np.pi * (coeffs - _DITHER) / STEP).reshape(len(grids), -1,
                                                                        len(_COEFFS))  # fmt: skip
    marked = np.clip(on_lattice.mean((0, 2)), 0.0, None)[None]  # (1, blocks)
    weight = np.repeat(texture * marked, len(_COEFFS), axis=1) + _VOTE_FLOOR * 0.1
    # One scale for every slot (not each slot's own weight): a slot in a flat or unmarked block
    # then votes weakly instead of as loudly as a marked one (+2-3 copies read in 35 re-encodes).
    cos = np.cos(2 * np.pi * (coeffs - _DITHER) / STEP)
    per_frame = (weight * cos).sum(0) / weight.sum(0).max()
    readings = [_decode_votes(per_frame, usable, len(grids), view_box, mirrored)]
    if len(grids) > 1:
        static = np.cos(2 * np.pi * (coeffs.mean(0) - _DITHER) / STEP) * weight.mean(0)
        readings.append(_decode_votes(static / weight.mean(0).max(), usable, len(grids),
                                      view_box, mirrored))  # fmt: skip
    return max(readings, key=lambda r: (r.found, r.crc_ok, -r.raw_ber))


def _decode_votes(
    votes: np.ndarray,
    usable: np.ndarray | None,
    n_frames: int,
    view_box: tuple[float, float, float, float],
    mirrored: bool,
) -> WatermarkReading:
    """(N_SLOTS,) soft votes (+1: bit 0) -> the reading (CRC and agreement checked)."""
    if usable is None:
        usable = np.ones(N_SLOTS, bool)
    votes = np.where(usable, votes, 0.0)
    soft = np.bincount(_BIT_OF_SLOT, weights=votes, minlength=ecc.CODED_BITS)
    payload, crc_ok, codeword = ecc.decode_payload(soft)
    signs = 1.0 - 2.0 * codeword
    raw_ber = float(np.mean((soft * signs) <= 0))
    confidence = float(np.sum(votes * signs[_BIT_OF_SLOT]) / max(usable.sum(), 1))
    found = crc_ok and raw_ber <= MAX_RAW_BER
    return WatermarkReading(found, payload if found else None, raw_ber, confidence, n_frames,
                            view_box, mirrored, crc_ok)  # fmt: skip


def lattice_coherence(
    grids: np.ndarray, usable: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """How close the (n, GRID, GRID) grids' slot coefficients sit to the watermark's lattices,
    whatever the payload (both bits' lattices are multiples of STEP / 2 from the dither): about
    0 for unmarked or misaligned frames, towards 1 for marked, aligned ones. `weights`
    (n, GRID, GRID): how much each cell counts (the texture that carries the mark)."""
    if not usable.any():
        return 0.0
    cos = np.cos(4 * np.pi * (_coefficients(grids) - _DITHER) / STEP)[:, usable]
    if weights is None:
        return float(cos.mean())
    per_slot = np.repeat(_blocks(weights).mean(2), len(_COEFFS), axis=1)[:, usable] + 1e-3
    return float((cos * per_slot).sum() / per_slot.sum())


def slots_inside(box: tuple[float, float, float, float]) -> np.ndarray:
    """(N_SLOTS,) bool: slots whose 8x8 block lies inside the visible part `box` (relative
    x0, y0, x1, y1) of the grid, give or take half a grid pixel."""
    x0, y0, x1, y1 = (v * GRID for v in box)
    edges = np.arange(_BLOCKS) * BLOCK
    cols = (edges >= x0 - 0.5) & (edges + BLOCK <= x1 + 0.5)
    rows = (edges >= y0 - 0.5) & (edges + BLOCK <= y1 + 0.5)
    return np.repeat((rows[:, None] & cols[None, :]).reshape(-1), len(_COEFFS))


def psnr_db(original: np.ndarray, marked: np.ndarray) -> float:
    """PSNR in dB between two uint8 frame stacks of the same shape."""
    mse = np.mean((original.astype(np.float32) - marked.astype(np.float32)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
