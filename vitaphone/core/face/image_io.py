"""Decode a user's portrait file into a safe, 8-bit sRGB `Portrait`.

The one place where portrait bytes become pixels. Every refusal is a `BadImage` (or
`ImageTooLarge`) naming the file and saying what it is and what to do instead.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from vitaphone.core.errors import BadImage, ImageTooLarge
from vitaphone.core.face.types import Portrait

DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_MAX_PIXELS = 40_000_000
MIN_SIDE_PX = 32

_SEND_A_PHOTO = "Send a JPEG, PNG or WebP photo or painting of a face."

# (offset, magic bytes, what it is) for files people send by mistake instead of an image.
_NOT_IMAGE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (0, b"FLV", "an FLV video"),
    (0, b"OggS", "an Ogg audio/video file"),
    (0, b"fLaC", "a FLAC audio file"),
    (0, b"ID3", "an MP3 audio file"),
    (0, b"#!AMR", "an AMR voice recording"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"7z\xbc\xaf", "a 7-Zip archive"),
    (0, b"Rar!", "a RAR archive"),
    (0, b"\x00\x00\x01\xba", "an MPEG video"),
)
_RIFF_KINDS = {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}
_FTYP_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis"}
_FTYP_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}


def load_portrait(
    data: bytes,
    *,
    name: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Portrait:
    """Decode image bytes into a Portrait (H x W x 3 uint8 sRGB).

    Refuses, before decoding any pixel data, files over `max_bytes` and images whose header
    declares more than `max_pixels` (decompression bombs). Applies the EXIF orientation, converts
    grayscale / CMYK / 16-bit / palette / embedded ICC colour to 8-bit sRGB, composites alpha on
    white and takes the first frame of animations; each such step is recorded in `notes`.
    """
    img = open_portrait_header(data, name=name, max_bytes=max_bytes, max_pixels=max_pixels)
    notes: list[str] = []
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
            notes.append(f"first frame of an animated {img.format} ({img.n_frames} frames)")
        img.load()
        img = _apply_orientation(img, notes)
        rgb = _to_rgb8(img, notes)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(
            f"The portrait file '{name}' is damaged and cannot be decoded ({exc}).",
            "Send the original photo again, or save it as JPEG/PNG first.",
        ) from exc
    return Portrait(
        rgb=np.ascontiguousarray(rgb),
        source_sha256=hashlib.sha256(data).hexdigest(),
        notes=tuple(notes),
    )


def open_portrait_header(
    data: bytes, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """The cheap checks of `load_portrait` (size, type, declared pixels), decoding no pixel.

    Returns the opened (header-only) Pillow image; raises BadImage / ImageTooLarge naming `name`.
    """
    if not data:
        raise BadImage(f"The portrait file '{name}' is empty.", _SEND_A_PHOTO)
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"The portrait file '{name}' is {len(data) / 1e6:.1f} MB; the limit is "
            f"{max_bytes / 1e6:.0f} MB.",
            "Send a smaller photo (a 2000 px JPEG is plenty).",
        )
    what = describe_non_image(data)
    if what:
        raise BadImage(f"The portrait file '{name}' is {what}, not an image.", _SEND_A_PHOTO)

    img = _open_header(data, name)
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The portrait '{name}' declares {width}x{height} pixels "
            f"({width * height / 1e6:.0f} megapixels); the limit is {max_pixels / 1e6:.0f}.",
            "Send a smaller photo (a 2000 px JPEG is plenty).",
        )
    if min(width, height) < MIN_SIDE_PX:
        raise BadImage(
            f"The portrait '{name}' is only {width}x{height} pixels.",
            "Send a larger photo: at least 256 px on each side.",
        )
    return img


def load_portrait_file(
    path: str | Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Portrait:
    """Read a portrait from disk (size checked before reading) and decode it with load_portrait."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # never more than the limit + 1 byte (/dev/zero, FIFOs)
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise BadImage(f"Cannot read the portrait file '{path}': {exc.strerror}.", "") from exc
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"The portrait file '{path.name}' is larger than the {max_bytes / 1e6:.0f} MB limit.",
            "Send a smaller photo (a 2000 px JPEG is plenty).",
        )
    return load_portrait(
        data, name=path.name, max_bytes=max_bytes, max_pixels=max_pixels
    )


def describe_non_image(data: bytes) -> str:
    """Say what a file is if its leading bytes show it is clearly not an image, else ''."""
    head = data[:64]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_IMAGE_BRANDS:
            return ""  # HEIF/AVIF: an image; Pillow decides whether it can read it
        if brand in _FTYP_AUDIO_BRANDS:
            return "an M4A audio file"
        return "an MP4/MOV video"
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and head[1] != 0xD8:
        return "an MP3/AAC audio file"
    if len(data) > 188 and data[0] == 0x47 and data[188] == 0x47:
        return "an MPEG-TS video"
    for offset, magic, what in _NOT_IMAGE_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return what
    if _looks_like_text(data[:4096]):
        return "a text file" if not data.lstrip()[:5].lower().startswith(b"<svg") else (
            "an SVG drawing (vector graphics)"
        )
    return ""


def _looks_like_text(sample: bytes) -> bool:
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _open_header(data: bytes, name: str) -> Image.Image:
    """Image.open reads only the header: dimensions are known before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            # Our own max_pixels check replaces Pillow's warning; its hard limit (2x its
            # MAX_IMAGE_PIXELS) still raises DecompressionBombError, handled below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(
            f"The portrait '{name}' declares far too many pixels to decode safely.",
            "Send a smaller photo (a 2000 px JPEG is plenty).",
        ) from exc
    except UnidentifiedImageError as exc:
        head = data[:12]
        if head[4:8] == b"ftyp" and head[8:12] in _FTYP_IMAGE_BRANDS:
            raise BadImage(
                f"The portrait '{name}' is a HEIC/AVIF photo, which this server cannot read.",
                "Export it as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible).",
            ) from exc
        raise BadImage(
            f"The portrait file '{name}' is not an image format we can read, or it is damaged.",
            _SEND_A_PHOTO,
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage(
            f"The portrait file '{name}' is damaged and cannot be decoded ({exc}).",
            "Send the original photo again, or save it as JPEG/PNG first.",
        ) from exc


def _apply_orientation(img: Image.Image, notes: list[str]) -> Image.Image:
    orientation = img.getexif().get(0x0112, 1)
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        rotated = ImageOps.exif_transpose(img)
        if rotated is not None:
            notes.append(f"EXIF orientation {orientation} applied")
            return rotated
    return img


def _to_rgb8(img: Image.Image, notes: list[str]) -> np.ndarray:
    """Any Pillow mode -> H x W x 3 uint8 sRGB, alpha composited on white."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        notes.append(f"{'16-bit' if mode.startswith('I;16') else mode + '-mode'} grayscale "
                     "reduced to 8-bit")
        return _wide_gray_to_rgb8(np.asarray(img))
    if mode == "1" or mode == "L" or mode == "LA" or mode == "La":
        notes.append("grayscale converted to RGB")
    elif mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode in ("P", "PA"):
        notes.append("palette image converted to RGB")

    has_alpha = mode in ("RGBA", "LA", "La", "PA", "RGBa") or (
        mode == "P" and "transparency" in img.info
    )
    icc = img.info.get("icc_profile")
    if icc and mode in ("RGB", "RGBA", "CMYK"):
        img = _icc_to_srgb(img, icc, notes)
    if has_alpha:
        rgba = img.convert("RGBA")
        arr = np.asarray(rgba).astype(np.float32)
        alpha = arr[..., 3:4] / 255.0
        if float(alpha.min()) < 1.0:
            notes.append("transparent background composited on white")
        out = arr[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _wide_gray_to_rgb8(gray: np.ndarray) -> np.ndarray:
    """16-bit / 32-bit / float grayscale -> 8-bit RGB, scaled by the format's own range."""
    g = gray.astype(np.float64)
    if gray.dtype.kind == "f":
        hi = 1.0 if float(np.nanmax(g)) <= 1.0 else float(np.nanmax(g))
    else:
        hi = 65535.0 if float(g.max()) > 255.0 else 255.0
    g8 = np.clip(np.nan_to_num(g) / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(g8[..., None], 3, axis=2)


def _icc_to_srgb(img: Image.Image, icc: bytes, notes: list[str]) -> Image.Image:
    """Convert embedded-profile colour to sRGB; a broken profile is ignored (colours as stored)."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = ImageCms.getProfileDescription(src).strip().lower()
        if "srgb" in desc and img.mode != "CMYK":
            return img  # already sRGB: skip the (slow) transform
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            img, src, ImageCms.createProfile("sRGB"), outputMode=out_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img
    if converted is None:
        return img
    notes.append(f"colour profile '{desc or 'embedded'}' converted to sRGB")
    return converted
