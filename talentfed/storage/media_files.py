"""The files of uploaded pictures: one directory ([media] directory), names drawn at random.

A name is 32 random URL-safe characters and the extension of the file's real type, so it can
be neither guessed nor chosen by whoever uploaded the file, and `path` accepts nothing else
(no path traversal). Files are written under a temporary name and renamed into place, so a
reader never sees half a file. Which pictures are accepted is domain/media.py's rule; which
rows name which files is in `media_attachments`.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import IO

# The types we store, by the extension their files get.
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
EXTENSIONS = {media_type: extension for extension, media_type in MEDIA_TYPES.items()}
# \Z, not $: "$" also matches before a final newline, which would pass "<name>.png\n".
NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.(jpg|png|gif|webp)\Z")
TEMPORARY_PREFIX = ".upload-"
TEMPORARY = re.compile(r"^\.upload-[A-Za-z0-9_]+\Z")  # what mkstemp leaves if a write was cut short
_COPY_CHUNK = 1 << 20


def media_type_of(name: str) -> str | None:
    """The type a stored file is served as, from its name; None for a name we never give."""
    return MEDIA_TYPES[name.rsplit(".", 1)[1]] if NAME.match(name) else None


class MediaFiles:
    """The media directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def save(self, data: bytes, media_type: str) -> str:
        """Write a new file; its random name."""
        name = f"{secrets.token_urlsafe(24)}.{EXTENSIONS[media_type]}"
        self._write(name, io.BytesIO(data))
        return name

    def put(self, name: str, content: IO[bytes]) -> None:
        """Write a file under a name we gave before (restoring a backup); any other name is
        refused, so a backup cannot name a path outside the directory."""
        if not NAME.match(name):
            raise ValueError(f"{name!r} is not the name of a stored media file")
        self._write(name, content)

    def _write(self, name: str, content: IO[bytes]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(handle, "wb") as stream:
                shutil.copyfileobj(content, stream, _COPY_CHUNK)
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def path(self, name: str) -> Path | None:
        """The file of a name we gave, if it is there."""
        if not NAME.match(name):
            return None
        path = self.directory / name
        return path if path.is_file() else None

    def delete(self, name: str) -> None:
        """Remove a stored file, or a temporary one left over; any other name is ignored."""
        if NAME.match(name) or TEMPORARY.match(name):
            (self.directory / name).unlink(missing_ok=True)

    def stored(self) -> list[str]:
        """The names of the stored files (not the temporary ones), sorted."""
        return sorted(name for name, _ in self.names() if NAME.match(name))

    def names(self) -> list[tuple[str, float]]:
        """Every stored (or leftover temporary) file's name and modification time."""
        if not self.directory.is_dir():
            return []
        return [
            (entry.name, entry.stat().st_mtime)
            for entry in os.scandir(self.directory)
            if entry.is_file() and (NAME.match(entry.name) or TEMPORARY.match(entry.name))
        ]
