"""Orphaned uploads go, on both back-ends: attachments no post uses, avatars and headers no
longer shown, files no row names; what is in use stays. And `talentfed prune-media` does it."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config, load_config
from talentfed.domain import media
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import ProfileChanges, find_local_actor, update_profile
from talentfed.domain.posts import Draft, publish
from talentfed.storage.media_files import MediaFiles
from talentfed.storage.models import MediaAttachment, utcnow
from tests.domain.test_media import picture
from tests.support import run_cli, write_config


async def _upload(
    session: AsyncSession, config: Config, owner, purpose: str = media.ATTACHMENT
) -> MediaAttachment:
    return await media.add(session, owner, await media.prepare(config, picture("PNG"), purpose=purpose))


async def test_orphans_older_than_a_day_are_pruned(session: AsyncSession, config: Config) -> None:
    await ensure_demo(session, config)
    ada = await find_local_actor(session, "ada")
    assert ada is not None
    unused, used, old_avatar, avatar = (
        await _upload(session, config, ada),
        await _upload(session, config, ada),
        await _upload(session, config, ada, media.AVATAR),
        await _upload(session, config, ada, media.AVATAR),
    )
    fresh = await _upload(session, config, ada)
    await publish(session, config, ada, Draft(kind="note", body="", media_ids=(used.id,)))
    await update_profile(
        session, config, ada, ProfileChanges(icon_url=media.local_url(config, avatar.file_name or ""))
    )
    day_old = utcnow() - timedelta(days=1, minutes=1)
    old = [unused.id, used.id, old_avatar.id, avatar.id]
    await session.execute(
        update(MediaAttachment).where(MediaAttachment.id.in_(old)).values(created_at=day_old)
    )
    files = MediaFiles(config.media.directory)
    stray = files.save(picture("PNG"), "image/png")
    os.utime(files.directory / stray, (time.time() - 90_000, time.time() - 90_000))

    gone = await media.prune(session, config)
    strays = await media.stray_files(session, config)
    await session.commit()

    assert sorted(gone) == sorted({unused.file_name, old_avatar.file_name})
    assert stray in strays and fresh.file_name not in strays and used.file_name not in strays
    media.delete_files(config.media.directory, [*gone, *strays])
    left = set(await session.scalars(select(MediaAttachment.id)))
    assert left == {used.id, avatar.id, fresh.id}
    assert files.path(unused.file_name or "") is None and files.path(stray) is None
    assert files.path(used.file_name or "") is not None and files.path(avatar.file_name or "") is not None


def test_the_command_prunes_and_reports(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    directory = Path(load_config(tmp_path / "config.toml", environ={}).media.directory)
    stray = MediaFiles(directory).save(picture("PNG"), "image/png")
    os.utime(directory / stray, (time.time() - 7200, time.time() - 7200))
    kept = run_cli("prune-media", cwd=tmp_path)
    assert kept.returncode == 0 and "removed 0 files" in kept.stdout and (directory / stray).exists()
    pruned = run_cli("prune-media", "--older-than-hours", "1", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert "removed 1 files" in pruned.stdout and not (directory / stray).exists()
