"""Pictures the tests make rather than ship (importable from any test module: tests/ is on
sys.path, as for required_engines)."""

from __future__ import annotations


def gradient_png() -> bytes:
    """A 400 x 300 sky-like gradient: a valid picture with no face in it."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:300, 0:400].astype(np.float32)
    rgb = np.stack([120 + x / 8, 160 + y / 6, 230 - y / 10], axis=-1).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()
