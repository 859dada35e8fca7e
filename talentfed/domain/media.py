"""Pictures members upload: the media attachments of their posts, their avatar and header.

The one home of what is accepted and how it is kept:

- the caps are the node's (`[media]` in the configuration): bytes and pixels;
- the type is read from the bytes, never from the client's file name or Content-Type: JPEG,
  PNG, GIF and WebP pictures only. Video and audio are refused for now, and so are SVG (a
  document that can carry scripts), HEIC/AVIF and anything else;
- the dimensions are checked before any pixel is decoded, so a small file that claims to be a
  huge picture (a decompression bomb) costs nothing;
- every picture is decoded and encoded again with Pillow, from its pixels only: what is stored
  carries no EXIF (no GPS position, no camera), no comment, nothing appended after the image
  (a polyglot is just a picture then). The EXIF orientation is applied first, so the picture
  stands as it was taken. A GIF keeps its first frame, stored as a PNG;
- an attachment larger than 3840 × 2160 pixels' worth is scaled down, as Mastodon does, and gets
  a small preview and a BlurHash; an avatar is cropped square (400 × 400 at most), a header to
  3:1 (1500 × 500 at most).

Files are written by `storage/media_files.py` under names drawn at random; rows are
`media_attachments`. Uploads that no post uses, and avatars and headers no longer shown, are
orphans: `prune` removes those older than a day (`talentfed prune-media`).
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from PIL import Image, ImageOps
from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import blurhash
from talentfed.domain.errors import FieldError
from talentfed.federation.limits import MAX_MEDIA_DESCRIPTION, InputRefused, check_string
from talentfed.federation.uris import LocalURIs
from talentfed.storage.db import rowcount
from talentfed.storage.media_files import MediaFiles
from talentfed.storage.models import Actor, MediaAttachment, Object, utcnow

ATTACHMENT, AVATAR, HEADER = "attachment", "avatar", "header"
SUPPORTED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_ATTACHMENTS = 4  # per post, as Mastodon
STORED_PIXELS = 3840 * 2160  # larger attachments are scaled down to this, as Mastodon does
PREVIEW_PIXELS = 640 * 360  # Mastodon's "small" version
AVATAR_SIDE = 400
HEADER_SIZE = (1500, 500)
ORPHAN_AGE = timedelta(days=1)

_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# What each accepted type is stored as: a GIF's first frame keeps its colours best as a PNG.
_STORED_AS = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/gif": "image/png",
    "image/webp": "image/webp",
}


class MediaError(FieldError):
    """An upload or a change of one refused; names the field (`file`, `description`, …)."""


# --- what the bytes are --------------------------------------------------------------------


def sniff(data: bytes) -> str:
    """The type of a picture we accept, read from its first bytes; MediaError for anything else."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise MediaError("file", _refusal(head))


_AUDIO_VIDEO = (b"\x1aE\xdf\xa3", b"OggS", b"ID3", b"fLaC", b"FLV")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis")


def _refusal(head: bytes) -> str:
    """Why these bytes are refused, in words the member can act on."""
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return "HEIC and AVIF pictures are not supported: send JPEG, PNG, GIF or WebP"
        return "video and audio are not supported yet: only pictures (JPEG, PNG, GIF, WebP)"
    if head.startswith(_AUDIO_VIDEO) or (head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI ")):
        return "video and audio are not supported yet: only pictures (JPEG, PNG, GIF, WebP)"
    if head.lstrip().startswith(b"<"):
        return "SVG and other text documents are not accepted: only JPEG, PNG, GIF or WebP pictures"
    return "not a picture we accept: JPEG, PNG, GIF or WebP"


# --- decoding and encoding again ------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    data: bytes
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    original: Picture
    preview: Picture | None  # None: the original is small enough to be its own preview
    blurhash: str | None


def process(data: bytes, purpose: str, max_pixels: int) -> Processed:
    """Check, clean and size a picture (CPU-bound: run it off the event loop)."""
    media_type = sniff(data)
    image = _decoded(data, media_type, max_pixels)
    stored_as = _STORED_AS[media_type]
    if purpose == AVATAR:
        side = min(*image.size, AVATAR_SIDE)
        image = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    elif purpose == HEADER:
        width = min(image.width, HEADER_SIZE[0], image.height * 3)
        image = ImageOps.fit(image, (width, max(1, width // 3)), Image.Resampling.LANCZOS)
    else:
        image = _within(image, STORED_PIXELS)
    original = _encoded(image, stored_as)
    if purpose != ATTACHMENT:
        return Processed(original, None, None)
    small = _within(image, PREVIEW_PIXELS)
    preview = _encoded(small, stored_as) if small is not image else None
    return Processed(original, preview, _blurhash(small))


def _decoded(data: bytes, media_type: str, max_pixels: int) -> Image.Image:
    """The picture's first frame, upright, as pixels only; refused when over the caps or broken."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[media_type]])
        width, height = image.size
    except Image.DecompressionBombError:
        raise MediaError("file", f"the picture is larger than {max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise MediaError("file", "the picture cannot be read: it is damaged or incomplete") from None
    if width * height > max_pixels:
        raise MediaError("file", f"{width} × {height} pixels is larger than {max_pixels} pixels")
    try:
        image.seek(0)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise MediaError("file", "the picture cannot be read: it is damaged or incomplete") from None
    mode = "RGBA" if upright.has_transparency_data else "RGB"
    # A new image holding the pixels alone: nothing of the file's metadata can follow it.
    clean = Image.new(mode, upright.size)
    clean.paste(upright.convert(mode))
    return clean


def _within(image: Image.Image, pixels: int) -> Image.Image:
    """The image scaled down to at most `pixels` (the same image when it is already smaller)."""
    if image.width * image.height <= pixels:
        return image
    factor = math.sqrt(pixels / (image.width * image.height))
    size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encoded(image: Image.Image, media_type: str) -> Picture:
    out = io.BytesIO()
    if media_type == "image/jpeg":
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif media_type == "image/webp":
        image.save(out, "WEBP", quality=90)
    else:
        image.save(out, "PNG")
    return Picture(out.getvalue(), media_type, image.width, image.height)


def _blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGB")
    tiny.thumbnail((32, 32))
    return blurhash.encode(np.asarray(tiny))


# --- what the member says about a picture ---------------------------------------------------


def checked_description(text: str | None) -> str | None:
    """Alt text as stored: None keeps the current one, "" removes it."""
    if text is None:
        return None
    if len(text) > MAX_MEDIA_DESCRIPTION:
        raise MediaError("description", f"at most {MAX_MEDIA_DESCRIPTION} characters")
    try:
        check_string(text)
    except InputRefused as exc:
        raise MediaError("description", exc.detail) from None
    return text


def parse_focus(text: str) -> tuple[float, float]:
    """Mastodon's focal point: "x,y", each from -1.0 to 1.0 (0,0 is the centre)."""
    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        x = y = math.nan
    if not (len(parts) == 2 and -1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise MediaError("focus", f"expected two numbers from -1.0 to 1.0 as x,y, got {text[:40]!r}")
    return x, y


@dataclass(frozen=True)
class MediaChanges:
    description: str | None = None  # None: unchanged; "": removed
    focus: str | None = None  # "x,y"; None: unchanged


def _apply(media: MediaAttachment, changes: MediaChanges) -> None:
    description = checked_description(changes.description)
    if description is not None:
        media.description = description or None
    if changes.focus is not None:
        media.focus_x, media.focus_y = parse_focus(changes.focus)


# --- storing ---------------------------------------------------------------------------------


async def prepare(
    config: Config, data: bytes, *, purpose: str = ATTACHMENT, changes: MediaChanges = MediaChanges()
) -> MediaAttachment:
    """Check, clean and write a picture's files; the row for `add`. Decoding a large picture
    takes up to a second: this runs before the transaction that stores the row opens, off the
    event loop."""
    if len(data) > config.media.max_image_bytes:
        raise MediaError("file", f"larger than {config.media.max_image_bytes} bytes")
    media = MediaAttachment(purpose=purpose, type="image")
    _apply(media, changes)  # refused before the work
    processed = await asyncio.to_thread(process, data, purpose, config.media.max_image_pixels)
    files = MediaFiles(config.media.directory)
    original, preview = processed.original, processed.preview or processed.original
    media.file_name = await asyncio.to_thread(files.save, original.data, original.media_type)
    media.preview_name = (
        await asyncio.to_thread(files.save, preview.data, preview.media_type)
        if processed.preview
        else media.file_name
    )
    media.media_type, media.file_size = original.media_type, len(original.data)
    media.width, media.height = original.width, original.height
    media.preview_width, media.preview_height = preview.width, preview.height
    media.blurhash = processed.blurhash
    return media


async def add(session: AsyncSession, owner: Actor, media: MediaAttachment) -> MediaAttachment:
    """Store a prepared picture as the member's (flushed: it has its id)."""
    media.actor_id = owner.id
    session.add(media)
    await session.flush()
    return media


def local_url(config: Config, name: str) -> str:
    """Where the node serves a stored file."""
    return LocalURIs(config.node.base_url).media(name)


async def find_upload(session: AsyncSession, owner: Actor, media_id: int) -> MediaAttachment | None:
    """The member's own upload that no post uses yet (what Mastodon lets apps read and change)."""
    return await session.scalar(
        select(MediaAttachment).where(
            MediaAttachment.id == media_id,
            MediaAttachment.actor_id == owner.id,
            MediaAttachment.purpose == ATTACHMENT,
            MediaAttachment.object_id.is_(None),
        )
    )


async def change(session: AsyncSession, media: MediaAttachment, changes: MediaChanges) -> MediaAttachment:
    _apply(media, changes)
    await session.flush()
    return media


# --- posts and their media -----------------------------------------------------------------


def check_count(media_ids: Sequence[int]) -> None:
    if len(media_ids) > MAX_ATTACHMENTS:
        raise MediaError("media_ids", f"Cannot attach more than {MAX_ATTACHMENTS} files")


async def attach(session: AsyncSession, author: Actor, post: Object, media_ids: Sequence[int]) -> None:
    """Attach the author's unattached uploads to a new post, in the order given. Each is taken
    with one conditional UPDATE, so two posts can never both take the same upload."""
    check_count(media_ids)
    missing = []
    for position, media_id in enumerate(dict.fromkeys(media_ids)):
        taken = await session.execute(
            update(MediaAttachment)
            .where(
                MediaAttachment.id == media_id,
                MediaAttachment.actor_id == author.id,
                MediaAttachment.purpose == ATTACHMENT,
                MediaAttachment.object_id.is_(None),
            )
            .values(object_id=post.id, position=position)
            .execution_options(synchronize_session=False)
        )
        if rowcount(taken) != 1:
            missing.append(str(media_id))
    if missing:
        raise MediaError(
            "media_ids", f"Media {', '.join(missing)} not found or already attached to another post"
        )


async def detach(session: AsyncSession, post: Object) -> None:
    """A deleted post lets its uploads go: an app may attach them again (delete and redraft);
    unused, they are pruned."""
    await session.execute(
        update(MediaAttachment)
        .where(MediaAttachment.object_id == post.id)
        .values(object_id=None, created_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def media_of(session: AsyncSession, posts: Sequence[Object]) -> dict[int, list[MediaAttachment]]:
    """Each post's media in order, read in one query."""
    found: dict[int, list[MediaAttachment]] = {post.id: [] for post in posts}
    if not found:
        return found
    rows = await session.scalars(
        select(MediaAttachment)
        .where(MediaAttachment.object_id.in_(found))
        .order_by(MediaAttachment.object_id, MediaAttachment.position, MediaAttachment.id)
    )
    for media in rows:
        found[media.object_id or 0].append(media)
    return found


def with_media() -> ColumnElement[bool]:
    """A filter on posts: those with at least one attachment (Mastodon's `only_media`)."""
    return exists().where(MediaAttachment.object_id == Object.id)


# --- orphans ---------------------------------------------------------------------------------


async def prune(session: AsyncSession, config: Config, older_than: timedelta = ORPHAN_AGE) -> list[str]:
    """Remove the rows of orphaned uploads older than `older_than`: attachments no post uses,
    avatars and headers their member no longer shows. Returns the names of their files, for the
    caller to delete once the transaction is committed."""
    cutoff = utcnow() - older_than
    candidates = await session.execute(
        select(MediaAttachment, Actor)
        .join(Actor, Actor.id == MediaAttachment.actor_id)
        .where(
            MediaAttachment.file_name.is_not(None),
            MediaAttachment.object_id.is_(None),
            MediaAttachment.created_at < cutoff,
        )
    )
    orphans = [media for media, actor in candidates if not _shown(config, media, actor)]
    if orphans:
        await session.execute(delete(MediaAttachment).where(MediaAttachment.id.in_([m.id for m in orphans])))
    return [name for media in orphans for name in {media.file_name, media.preview_name} if name]


def _shown(config: Config, media: MediaAttachment, actor: Actor) -> bool:
    url = local_url(config, media.file_name or "")
    return (media.purpose == AVATAR and actor.icon_url == url) or (
        media.purpose == HEADER and actor.image_url == url
    )


async def stray_files(session: AsyncSession, config: Config, older_than: timedelta = ORPHAN_AGE) -> list[str]:
    """Files in the media directory that no row names (an upload whose transaction failed)."""
    known: set[str | None] = set()
    for file_name, preview_name in await session.execute(
        select(MediaAttachment.file_name, MediaAttachment.preview_name).where(
            MediaAttachment.file_name.is_not(None)
        )
    ):
        known.update((file_name, preview_name))
    cutoff = (utcnow() - older_than).timestamp()
    files = await asyncio.to_thread(MediaFiles(config.media.directory).names)
    return [name for name, modified in files if name not in known and modified < cutoff]


def delete_files(directory: str, names: Sequence[str]) -> None:
    """Delete files of the media directory (once the rows naming them are gone for good)."""
    files = MediaFiles(directory)
    for name in names:
        files.delete(name)
