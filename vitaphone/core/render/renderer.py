"""render_frames: portrait + mesh + motion track -> Frames, batched over frames in torch.

`render_batches` streams the same frames batch by batch (the pipeline marks and encodes each
batch while the next renders); `render_frames_timed` collects that stream into one array."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from vitaphone.core.errors import BadOption
from vitaphone.core.face.types import FaceMesh, Portrait
from vitaphone.core.media.types import FrameFormat, Frames
from vitaphone.core.motion.types import CHANNELS, MotionTrack
from vitaphone.core.render import eyes, lip_seal, mouth, regions
from vitaphone.core.render.controls import N_MESH, build_control_points
from vitaphone.core.render.crop import CropPlan, crop_image, head_box, plan_crop
from vitaphone.core.render.rig import Rig
from vitaphone.core.render.types import RenderOptions, StageTimes
from vitaphone.core.render.warp import (
    WarpTable,
    backward_field,
    build_warp_table,
    forward_field,
    moving_roi,
    warp_roi,
)

log = logging.getLogger(__name__)


def pick_device(name: str) -> torch.device:
    """ "auto" -> CUDA when available (logged when falling back), else the named device."""
    if name == "cuda" and not torch.cuda.is_available():
        raise BadOption(
            "The render device 'cuda' was asked for but no CUDA GPU is available.",
            "Use --device cpu or auto.",
        )
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        log.info("No CUDA GPU found: rendering on the CPU.")
        return torch.device("cpu")
    return torch.device(name)


@dataclass
class PreparedPortrait:
    """Everything computed once per portrait (tables, colours); reused for every frame."""

    plan: CropPlan
    crop_rgb: np.ndarray  # (H, W, 3) uint8 output-size crop
    image: torch.Tensor  # (3, H, W) float32 0..255 on the device
    rig: Rig
    table: WarpTable
    mouth: mouth.MouthStyle
    eyes: eyes.EyeStyle
    seal: lip_seal.SealStyle  # lips parted at rest: how to close them
    head_box: tuple[int, int, int, int]
    device: torch.device


def prepare(portrait: Portrait, mesh: FaceMesh, options: RenderOptions) -> PreparedPortrait:
    device = pick_device(options.device)
    plan = plan_crop(portrait.size_hw, mesh.landmarks, options.max_side)
    crop = crop_image(portrait.rgb, plan)
    lm = mesh.landmarks.astype(np.float32).copy()
    lm[:, :2] = plan.to_output(lm[:, :2])
    lm[:, 2] *= plan.scale
    width, height = plan.out_wh
    right, left = regions.eye_centres(lm[:, :2])
    rig_frame_iod = float(np.linalg.norm(left - right))
    controls = build_control_points(lm, mesh.triangles, width, height, rig_frame_iod)
    rig = Rig(controls, device, mesh.yaw_deg)
    roi = moving_roi(controls, width, height, margin_px=4 + 0.03 * max(width, height))
    table = build_warp_table(controls, roi, device)
    image = torch.tensor(crop, device=device).permute(2, 0, 1).float().contiguous()  # a copy: crop may be read-only
    return PreparedPortrait(
        plan,
        crop,
        image,
        rig,
        table,
        mouth.mouth_style(crop, lm, rig_frame_iod),
        eyes.eye_style(crop, lm, rig_frame_iod),
        lip_seal.seal_style(crop, lm, rig_frame_iod, roi[:2], device),
        head_box(lm, plan.out_wh),
        device,
    )


@dataclass
class _Clock:
    """Seconds per render stage. On the CPU: wall time between laps. On CUDA: GPU time between
    events recorded on the compute stream (no synchronisation per stage, which would stall the
    pipeline), resolved once in `totals()`; host-side work is added with `add`."""

    device: torch.device
    seconds: dict[str, float] = field(default_factory=dict)
    _t: float = 0.0
    _last: object = None
    _laps: list[tuple[str, object, object]] = field(default_factory=list)

    def start(self) -> None:
        if self.device.type == "cuda":
            self._last = self._event()
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.device.type == "cuda":
            event = self._event()
            self._laps.append((stage, self._last, event))
            self._last = event
            return
        now = time.perf_counter()
        self.add(stage, now - self._t)
        self._t = now

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def totals(self) -> dict[str, float]:
        if self._laps:
            torch.cuda.synchronize(self.device)
            for stage, begin, end in self._laps:
                self.add(stage, begin.elapsed_time(end) / 1000.0)  # type: ignore[attr-defined]
            self._laps.clear()
        return dict(self.seconds)

    def _event(self) -> object:
        event = torch.cuda.Event(enable_timing=True)
        event.record(torch.cuda.current_stream(self.device))
        return event


@contextmanager
def _small_op_threads(device: torch.device) -> Iterator[None]:
    """On the CPU run torch single-threaded for the duration of a render: its tensors here are
    small (node grid, mouth and eye patches), and intra-op threads cost more than they give
    (375 frames at 512 px: 4.4 s wall with 1 thread, 10.9 s with 2 on a busy 2-core machine).
    The pixel-heavy step, OpenCV's remap, keeps its own threads."""
    if device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def render_batch(prep: PreparedPortrait, values: torch.Tensor, clock: _Clock) -> torch.Tensor:
    """values (B, len(CHANNELS)) -> ROI frames (B, h, w, 3) uint8 on the device."""
    disp = prep.rig.displace(values)
    clock.lap("rig")
    fwd = forward_field(prep.table, disp)
    offsets = backward_field(prep.table, fwd)
    clock.lap("field")
    roi_img = warp_roi(prep.image, prep.crop_rgb, prep.table, offsets)
    clock.lap("warp")
    points = prep.rig.points[None, :N_MESH, :2] + disp[:, :N_MESH]  # (B, 468, 2) crop px
    x0, y0 = prep.table.roi[:2]
    points = points - torch.tensor([x0, y0], device=points.device, dtype=points.dtype)
    rest = points[0] - disp[0, :N_MESH]  # the portrait's own mesh, ROI px
    roi_img = lip_seal.seal_lips(
        roi_img, points, rest, offsets, prep.image, prep.table.roi, prep.seal
    )
    roi_img = mouth.composite_mouth(roi_img, points, values, prep.mouth)
    clock.lap("mouth")
    roi_img = eyes.composite_eyes(roi_img, points, values, prep.eyes, prep.image, (x0, y0))
    clock.lap("eyes")
    return roi_img


def render_frames(
    portrait: Portrait, mesh: FaceMesh, track: MotionTrack, options: RenderOptions
) -> Frames:
    """Render every frame of `track` (see module docstring); Frames.rgb (T, H, W, 3) uint8."""
    return render_frames_timed(portrait, mesh, track, options)[0]


def render_frames_timed(
    portrait: Portrait, mesh: FaceMesh, track: MotionTrack, options: RenderOptions
) -> tuple[Frames, StageTimes]:
    """render_frames, also returning the seconds spent per stage."""
    stream = render_batches(portrait, mesh, track, options)
    fmt = stream.format
    out = np.empty((fmt.n_frames, fmt.height, fmt.width, 3), dtype=np.uint8)
    for _ in stream.batches(out):  # each batch is written into `out` in place
        pass
    frames = Frames(out, fmt.fps, fmt.crop_xyxy, fmt.head_box_xyxy)
    return frames, stream.times()


def render_batches(
    portrait: Portrait, mesh: FaceMesh, track: MotionTrack, options: RenderOptions
) -> FrameStream:
    """Prepare the portrait now (errors surface here) and return a stream of its frames:
    `stream.format` up front, `for rgb in stream` yields (b, H, W, 3) uint8 RGB batches in order
    as they are rendered (each a fresh array the caller owns), `stream.times()` at the end."""
    if track.values.ndim != 2 or track.values.shape[1] != len(CHANNELS):
        raise ValueError(
            f"track.values must be (n_frames, {len(CHANNELS)}), got {track.values.shape}"
        )
    t0 = time.perf_counter()
    prep = prepare(portrait, mesh, options)
    stream = FrameStream(prep, track, options.batch_for(prep.device.type))
    stream.clock.add("prepare", time.perf_counter() - t0)
    return stream


class FrameStream:
    """Frames of one render, batch by batch (see `render_batches`). Iterate once."""

    def __init__(self, prep: PreparedPortrait, track: MotionTrack, batch: int) -> None:
        width, height = prep.plan.out_wh
        self.format = FrameFormat(
            track.n_frames, height, width, float(track.fps), prep.plan.crop_xyxy, prep.head_box
        )
        self.batch_size = batch
        self.clock = _Clock(prep.device)
        self._prep = prep
        self._values = torch.as_tensor(
            np.asarray(track.values, dtype=np.float32), device=prep.device
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.batches()

    def times(self) -> StageTimes:
        """Seconds per stage so far (all of them once the stream is exhausted)."""
        return replace(StageTimes(), **self.clock.totals())

    def batches(self, out: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Yield (b, H, W, 3) uint8 batches; with `out` (n_frames, H, W, 3) they are views of it."""
        if self._prep.device.type == "cuda":
            return self._cuda_batches(out)
        return self._cpu_batches(out)

    def _cpu_batches(self, out: np.ndarray | None) -> Iterator[np.ndarray]:
        for start in range(0, self.format.n_frames, self.batch_size):
            # Torch state is entered per batch, never held across a yield (the caller's code
            # between batches must not run in inference mode or single-threaded).
            with torch.inference_mode(), _small_op_threads(self._prep.device):
                self.clock.start()
                roi = render_batch(self._prep, self._values[start : start + self.batch_size],
                                   self.clock).numpy()  # fmt: skip
                rgb = self._compose(start, roi, out)
                self.clock.lap("output")
            yield rgb

    def _cuda_batches(self, out: np.ndarray | None) -> Iterator[np.ndarray]:
        """Render batch i+1 on the GPU while batch i is copied to pinned host memory on a side
        stream and composed on the host: the device -> host copy overlaps compute, and the
        host waits for a batch's copy only one batch later."""
        device = self._prep.device
        compute, copier = torch.cuda.current_stream(device), torch.cuda.Stream(device)
        x0, y0, x1, y1 = self._prep.table.roi
        shape = (self.batch_size, y1 - y0, x1 - x0, 3)
        pinned = [torch.empty(shape, dtype=torch.uint8, pin_memory=True) for _ in range(2)]
        pending: tuple[int, torch.Tensor, torch.cuda.Event] | None = None
        for i, start in enumerate(range(0, self.format.n_frames, self.batch_size)):
            with torch.inference_mode():
                self.clock.start()
                roi = render_batch(self._prep, self._values[start : start + self.batch_size],
                                   self.clock)  # fmt: skip
                copier.wait_stream(compute)  # the copy starts once this batch is rendered
                host = pinned[i % 2][: roi.shape[0]]  # free: batch i-2 was composed already
                with torch.cuda.stream(copier):
                    host.copy_(roi, non_blocking=True)
                    # A blocking event: the host sleeps until the copy is done instead of
                    # spinning a core (with a dozen jobs per host, spinning waits cost more
                    # CPU than the work itself).
                    copied = torch.cuda.Event(blocking=True)
                    copied.record(copier)
                roi.record_stream(copier)  # keep its memory until the copy has read it
            if pending is not None:
                yield self._compose_copied(*pending, out)
            pending = (start, host, copied)
        if pending is not None:
            yield self._compose_copied(*pending, out)

    def _compose_copied(
        self, start: int, host: torch.Tensor, copied: torch.cuda.Event, out: np.ndarray | None
    ) -> np.ndarray:
        t0 = time.perf_counter()
        copied.synchronize()
        rgb = self._compose(start, host.numpy(), out)
        self.clock.add("output", time.perf_counter() - t0)
        return rgb

    def _compose(self, start: int, roi: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """Full frames: the still crop with the rendered ROI (b, h, w, 3) pasted in."""
        fmt, n = self.format, len(roi)
        if out is None:
            rgb = np.empty((n, fmt.height, fmt.width, 3), dtype=np.uint8)
        else:
            rgb = out[start : start + n]
        rgb[:] = self._prep.crop_rgb
        x0, y0, x1, y1 = self._prep.table.roi
        rgb[:, y0:y1, x0:x1] = roi
        return rgb


class WarpRenderer:
    """The mesh-driven 2.5D warp renderer (the Renderer protocol's default engine)."""

    def render(
        self,
        portrait: Portrait,
        mesh: FaceMesh,
        track: MotionTrack,
        options: RenderOptions,
    ) -> Frames:
        return render_frames(portrait, mesh, track, options)
