"""Run the bundled MediaPipe .tflite models with Google's LiteRT runtime (no mediapipe package).

Interpreters are created once per process on first use and guarded by a lock: a LiteRT
interpreter holds its tensors in place and must not be invoked from two threads at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

from vitaphone.core.errors import EngineUnavailable

MODELS_DIR = Path(__file__).resolve().parent / "models"


class TfliteModel:
    """One loaded model: `run(x)` feeds a float32 batch and returns outputs by tensor name."""

    def __init__(self, path: Path) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - depends on the host
            raise EngineUnavailable(
                "LiteRT (ai-edge-litert)", "pip install 'vitaphone[media]'"
            ) from exc
        if not path.is_file():
            raise EngineUnavailable(f"face model {path.name}", "reinstall vitaphone")
        self._interp = Interpreter(model_path=str(path), num_threads=1)
        with _quiet_stderr():  # LiteRT prints an INFO line for its XNNPACK delegate here
            self._interp.allocate_tensors()
        inp = self._interp.get_input_details()[0]
        self._input_index = int(inp["index"])
        self.input_shape = tuple(int(v) for v in inp["shape"])
        self._outputs = {d["name"]: int(d["index"]) for d in self._interp.get_output_details()}
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """x: float32 array of `input_shape`. Returns a copy of every output tensor by name."""
        if x.shape != self.input_shape:
            raise ValueError(f"expected input {self.input_shape}, got {x.shape}")
        with self._lock:
            self._interp.set_tensor(self._input_index, np.ascontiguousarray(x, np.float32))
            self._interp.invoke()
            return {name: self._interp.get_tensor(i).copy() for name, i in self._outputs.items()}


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C library's writes to file descriptor 2 (not Python's own logging)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=None)
def load_model(filename: str) -> TfliteModel:
    """The shared interpreter for one of the bundled model files (e.g. 'face_landmark.tflite')."""
    return TfliteModel(MODELS_DIR / filename)
