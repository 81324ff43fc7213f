"""Renderer options and the engine contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from vitaphone.core.errors import BadOption
from vitaphone.core.face.types import FaceMesh, Portrait
from vitaphone.core.media.types import Frames
from vitaphone.core.motion.types import MotionTrack

Device = Literal["cpu", "cuda", "auto"]


@dataclass(frozen=True)
class RenderOptions:
    """device: "cpu", "cuda" or "auto" (CUDA when available); max_side: longest output side in
    pixels (the crop is scaled down only when larger); batch_size: frames rendered together
    (memory ~ batch_size x crop pixels x 40 bytes; None: 25 on the CPU, 125 on CUDA, where
    bigger batches mean fewer kernel launches). The frame rate comes from the track."""

    device: Device = "auto"
    max_side: int = 1024
    batch_size: int | None = None

    def batch_for(self, device_type: str) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return 125 if device_type == "cuda" else 25

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda", "auto"):
            raise BadOption(f"Unknown render device '{self.device}'.", "Use cpu, cuda or auto.")
        if not 64 <= self.max_side <= 4096:
            raise BadOption(
                f"max_side must be between 64 and 4096 pixels, not {self.max_side}.",
                "The default 1024 suits most uses.",
            )
        if self.batch_size is not None and not 1 <= self.batch_size <= 1024:
            raise BadOption(
                f"batch_size must be between 1 and 1024, not {self.batch_size}.",
                "Lower it if the GPU runs out of memory.",
            )


@dataclass(frozen=True)
class StageTimes:
    """Seconds spent per stage over a whole render (prepare = per-portrait tables)."""

    prepare: float = 0.0
    rig: float = 0.0
    field: float = 0.0
    warp: float = 0.0
    mouth: float = 0.0
    eyes: float = 0.0
    output: float = 0.0


class Renderer(Protocol):
    """Turns a portrait, its mesh and a motion track into video frames."""

    def render(
        self,
        portrait: Portrait,
        mesh: FaceMesh,
        track: MotionTrack,
        options: RenderOptions,
    ) -> Frames: ...
