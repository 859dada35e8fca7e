"""domain/media.py without a database: what is accepted (read from the bytes), what is stored
(pixels only, upright, sized), what is refused and why, and the BlurHash."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from talentfed.domain import blurhash, media
from talentfed.domain.media import MediaError, checked_description, parse_focus, process, sniff

MAX_PIXELS = 33_177_600
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def picture(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **options: object
) -> bytes:
    """A picture in `fmt`: red on the left half, blue on the right (so turning it shows)."""
    image = Image.new(mode, size, (200, 30, 30, 255)[: len(mode)])
    image.paste((30, 30, 200, 255)[: len(mode)], (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo_with_gps(fmt: str = "JPEG", orientation: int = 6) -> bytes:
    """A camera's picture: 60 × 40, turned (EXIF orientation), with a GPS position and a maker."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "SecretCam"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    return picture(fmt, (60, 40), exif=exif.tobytes())


def png_claiming(width: int, height: int, rows: int = 0) -> bytes:
    """A PNG whose header says `width` × `height`; `rows` rows of zeros follow, compressed (a
    decompression bomb when many: megabytes of pixels in a few kilobytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    hundred_rows = b"\0" * (width + 1) * 100 if rows else b""
    pixels = b"".join(compressor.compress(hundred_rows) for _ in range(rows // 100)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_the_four_picture_types_are_read_from_their_bytes(fmt: str, media_type: str) -> None:
    assert sniff(picture(fmt)) == media_type


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"\0\0\0\x18ftypmp42\0\0\0\0", "video and audio are not supported yet"),
        (b"\0\0\0\x1cftypqt  \0\0\0\0", "video and audio are not supported yet"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01", "video and audio are not supported yet"),  # WebM
        (b"ID3\x04\0\0\0\0\0\0", "video and audio are not supported yet"),  # MP3
        (b"OggS\0\x02", "video and audio are not supported yet"),
        (b"RIFF\x24\0\0\0WAVEfmt ", "video and audio are not supported yet"),
        (b"\0\0\0\x18ftypheic\0\0\0\0", "HEIC and AVIF pictures are not supported"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"  <svg onload='alert(1)'></svg>", "SVG"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "SVG and other text documents"),
        (b"PK\x03\x04\x14\0\0\0", "not a picture we accept"),
        (b"", "not a picture we accept"),
        (b"%PDF-1.7", "not a picture we accept"),
    ],
)
def test_what_is_not_a_picture_is_refused_with_a_reason(head: bytes, says: str) -> None:
    with pytest.raises(MediaError, match=says) as refused:
        sniff(head)
    assert refused.value.field == "file"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_exif_and_gps_are_gone_and_the_picture_stands_upright(fmt: str) -> None:
    source = photo_with_gps(fmt)
    assert opened(source).getexif().get_ifd(GPS_IFD)  # the camera's file has a position
    stored = process(source, media.ATTACHMENT, MAX_PIXELS).original
    image = opened(stored.data)
    assert dict(image.getexif()) == {} and "exif" not in image.info and "xmp" not in image.info
    assert b"SecretCam" not in stored.data
    # Orientation 6: the 60 × 40 picture was taken turned; it is stored 40 × 60, red on top.
    assert (stored.width, stored.height) == image.size == (40, 60)
    top, bottom = image.convert("RGB").getpixel((20, 5)), image.convert("RGB").getpixel((20, 55))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_a_truncated_picture_is_refused(fmt: str) -> None:
    whole = picture(fmt, (300, 200))
    with pytest.raises(MediaError, match="damaged or incomplete"):
        process(whole[: len(whole) // 2], media.ATTACHMENT, MAX_PIXELS)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = png_claiming(8000, 8000, rows=8000)  # 64 million pixels in about 60 kB
    assert len(bomb) < 200_000
    started = time.perf_counter()
    with pytest.raises(MediaError, match="8000 × 8000 pixels is larger than 33177600 pixels"):
        process(bomb, media.ATTACHMENT, MAX_PIXELS)
    assert time.perf_counter() - started < 0.5  # refused from the header
    with pytest.raises(MediaError, match="larger than"):
        process(png_claiming(2**31 - 1, 2**31 - 1), media.ATTACHMENT, MAX_PIXELS)
    with pytest.raises(MediaError, match="pixels is larger than 1000 pixels"):
        process(picture("PNG", (50, 50)), media.ATTACHMENT, 1000)  # the node's own cap


def test_a_polyglot_is_stored_as_the_picture_it_is_and_nothing_more() -> None:
    """A GIF with an HTML page and a zip appended: what is stored is a PNG of its pixels."""
    payload = b"<html><script>alert(document.cookie)</script></html>PK\x03\x04zipzipzip"
    stored = process(picture("GIF") + payload, media.ATTACHMENT, MAX_PIXELS).original
    assert stored.media_type == "image/png" and opened(stored.data).format == "PNG"
    assert b"<script>" not in stored.data and b"PK\x03\x04" not in stored.data


def test_a_gif_keeps_its_first_frame_and_transparency_survives() -> None:
    frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    stored = opened(process(out.getvalue(), media.ATTACHMENT, MAX_PIXELS).original.data)
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0) and getattr(stored, "n_frames", 1) == 1
    clear = process(picture("PNG", mode="RGBA", size=(10, 10)), media.ATTACHMENT, MAX_PIXELS)
    assert opened(clear.original.data).mode == "RGBA"


def test_sizes_attachments_previews_avatars_and_headers() -> None:
    large = picture("JPEG", (4000, 3000))
    processed = process(large, media.ATTACHMENT, MAX_PIXELS)
    original, preview = processed.original, processed.preview
    assert (
        original.width * original.height <= media.STORED_PIXELS
        and original.width / original.height == pytest.approx(4 / 3, rel=0.01)
    )
    assert preview is not None and preview.width * preview.height <= media.PREVIEW_PIXELS
    assert processed.blurhash and len(processed.blurhash) == 36  # 4 × 4 components
    small = process(picture("PNG", (40, 30)), media.ATTACHMENT, MAX_PIXELS)
    assert small.preview is None  # small enough to be its own preview
    avatar = process(picture("PNG", (900, 600)), media.AVATAR, MAX_PIXELS)
    assert (avatar.original.width, avatar.original.height, avatar.preview, avatar.blurhash) == (
        400,
        400,
        None,
        None,
    )
    assert process(picture("PNG", (90, 60)), media.AVATAR, MAX_PIXELS).original.width == 60
    header = process(picture("PNG", (3000, 2000)), media.HEADER, MAX_PIXELS).original
    assert (header.width, header.height) == (1500, 500)


def test_blurhash_matches_the_reference_implementation() -> None:
    """The value the reference implementation (blurhash 1.1.5 on PyPI) gives for this gradient."""
    gradient = np.tile(np.linspace(0, 255, 40).astype(np.uint8)[None, :, None], (30, 1, 3))
    assert blurhash.encode(gradient) == "U$HetW00%MWBofWBj[fQfQfQfQfQofWBj[fQ"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a" * 1501, "at most 1500 characters"),
        ("alt\x00text", "NUL"),
        ("alt \ud800 text", "unpaired surrogate"),
    ],
)
def test_descriptions_postgresql_cannot_store_are_refused(text: str, says: str) -> None:
    with pytest.raises(MediaError, match=says):
        checked_description(text)
    assert checked_description("a" * 1500) == "a" * 1500 and checked_description(None) is None


@pytest.mark.parametrize("text", ["", "0", "1,2", "-1.5,0", "a,b", "nan,0", "inf,0", "0,0,0", "1e400,0"])
def test_a_focus_outside_the_picture_is_refused(text: str) -> None:
    with pytest.raises(MediaError, match="focus"):
        parse_focus(text)


def test_a_focus_inside_the_picture() -> None:
    assert parse_focus("-0.5, 0.25") == (-0.5, 0.25) and parse_focus("1,-1") == (1.0, -1.0)
