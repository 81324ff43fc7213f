"""Renderer: a portrait, its face mesh and a motion track -> video frames (torch, CPU or CUDA)."""

from vitaphone.core.render.renderer import (
    WarpRenderer,
    render_frames,
    render_frames_timed,
)
from vitaphone.core.render.types import Renderer, RenderOptions, StageTimes

__all__ = [
    "RenderOptions",
    "Renderer",
    "StageTimes",
    "WarpRenderer",
    "render_frames",
    "render_frames_timed",
]
