"""load_portrait on real portraits and on every bad input the animation issue lists."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vitaphone.core.errors import BadImage, ImageTooLarge
from vitaphone.core.face.image_io import load_portrait, load_portrait_file

ASSETS = Path(__file__).parents[2] / "assets" / "portraits"


@pytest.fixture(scope="module")
def einstein() -> Image.Image:
    return Image.open(ASSETS / "einstein.jpg").convert("RGB")


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_real_portrait_is_rgb8_with_hash():
    data = (ASSETS / "einstein.jpg").read_bytes()
    p = load_portrait(data, name="einstein.jpg")
    assert p.rgb.dtype == np.uint8 and p.rgb.shape == (500, 375, 3)
    assert p.source_sha256 == hashlib.sha256(data).hexdigest()
    assert p.notes == ()
    assert load_portrait_file(ASSETS / "einstein.jpg").source_sha256 == p.source_sha256


def test_grayscale_becomes_rgb(einstein):
    p = load_portrait(_save(einstein.convert("L"), "JPEG"), name="gray.jpg")
    assert p.rgb.shape[2] == 3
    assert np.array_equal(p.rgb[..., 0], p.rgb[..., 2])
    assert any("grayscale" in n for n in p.notes)


def test_cmyk_jpeg_becomes_rgb(einstein):
    p = load_portrait(_save(einstein.convert("CMYK"), "JPEG", quality=95), name="cmyk.jpg")
    ref = np.asarray(einstein, dtype=np.float32)
    assert p.rgb.shape == ref.shape
    assert np.abs(p.rgb.astype(np.float32) - ref).mean() < 12  # colours survive the round trip
    assert any("CMYK" in n for n in p.notes)


def test_16bit_png_is_scaled_not_clipped(einstein):
    gray16 = (np.asarray(einstein.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    data = _save(Image.fromarray(gray16), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    p = load_portrait(data, name="deep.png")
    np.testing.assert_allclose(p.rgb[..., 1], np.asarray(einstein.convert("L")), atol=1)
    assert any("16-bit" in n for n in p.notes)


def test_alpha_is_composited_on_white(einstein):
    rgba = einstein.convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:50] = 0  # a transparent band at the top
    rgba.putalpha(Image.fromarray(alpha))
    p = load_portrait(_save(rgba, "PNG"), name="cut_out.png")
    assert (p.rgb[:50] == 255).all()
    assert np.array_equal(p.rgb[60:], np.asarray(einstein)[60:])
    assert any("white" in n for n in p.notes)


def test_exif_rotated_phone_photo_is_turned_upright(einstein):
    # A phone stores the sensor image sideways plus orientation 6 ("rotate 90 CW to view").
    sideways = einstein.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    p = load_portrait(_save(sideways, "JPEG", quality=95, exif=exif), name="phone.jpg")
    assert p.rgb.shape == (500, 375, 3)
    assert np.abs(p.rgb.astype(int) - np.asarray(einstein, dtype=int)).mean() < 6
    assert any("EXIF orientation 6" in n for n in p.notes)


def test_animated_gif_gives_first_frame(einstein):
    frames = [einstein, einstein.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    p = load_portrait(data, name="anim.gif")
    first = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(p.rgb, first)
    assert any("first frame" in n and "2 frames" in n for n in p.notes)


def test_animated_webp_gives_first_frame(einstein):
    frames = [einstein, einstein.rotate(10)]
    data = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    p = load_portrait(data, name="anim.webp")
    assert p.rgb.shape == (500, 375, 3)
    assert any("first frame" in n for n in p.notes)


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR declaring width x height RGB, one tiny IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (8_000, 6_000)])
def test_decompression_bomb_refused_before_decoding(size):
    data = _png_header_only(*size)
    assert len(data) < 1000
    with pytest.raises(ImageTooLarge) as err:
        load_portrait(data, name="bomb.png")
    assert "bomb.png" in err.value.message and err.value.hint


def test_file_over_byte_limit_refused():
    with pytest.raises(ImageTooLarge, match="big.jpg"):
        load_portrait(b"\xff\xd8" + b"\x00" * 2000, name="big.jpg", max_bytes=1000)


def _tiny_mp4() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * i, np.uint8), "rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buf.getvalue()


def test_video_renamed_jpg_is_named_as_video():
    with pytest.raises(BadImage) as err:
        load_portrait(_tiny_mp4(), name="holiday.jpg")
    assert "holiday.jpg" in err.value.message and "video" in err.value.message
    assert "JPEG" in err.value.hint


def test_text_file_is_named_as_text():
    with pytest.raises(BadImage, match="notes.png.*text file"):
        load_portrait(b"Dear Vitaphone,\nplease animate my grandmother.\n", name="notes.png")


def test_audio_file_is_named_as_audio():
    with pytest.raises(BadImage, match="audio"):
        load_portrait(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4, name="a.jpg")


@pytest.mark.parametrize("kind", ["truncated", "garbled"])
def test_corrupt_jpeg_refused(kind):
    data = (ASSETS / "einstein.jpg").read_bytes()
    broken = data[: len(data) // 3] if kind == "truncated" else data[:200] + b"\x00" * 5000
    with pytest.raises(BadImage, match="broken.jpg.*damaged") as err:
        load_portrait(broken, name="broken.jpg")
    assert err.value.hint


def test_truncated_png_refused():
    data = _save(Image.open(ASSETS / "einstein.jpg"), "PNG")
    with pytest.raises(BadImage, match="damaged"):
        load_portrait(data[: len(data) // 2], name="half.png")


def test_empty_and_tiny_images_refused():
    with pytest.raises(BadImage, match="empty"):
        load_portrait(b"", name="empty.jpg")
    with pytest.raises(BadImage, match="8x8"):
        load_portrait(_save(Image.new("RGB", (8, 8)), "PNG"), name="dot.png")
