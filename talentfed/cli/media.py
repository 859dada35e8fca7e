"""`talentfed prune-media`: remove uploads nobody uses (domain/media.py says which)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from talentfed.cli.context import CommandError
from talentfed.cli.social import Session, run_in_session
from talentfed.domain import media


def register(commands: argparse._SubParsersAction) -> None:
    prune = commands.add_parser(
        "prune-media",
        help="remove uploaded pictures that nothing uses",
        description=(
            "Remove media attachments no post uses, avatars and headers no longer shown, and files "
            "no row names, when older than --older-than-hours (default 24). Run it daily (cron)."
        ),
    )
    prune.add_argument("--older-than-hours", type=float, default=24.0, metavar="HOURS")
    prune.set_defaults(handler=cmd_prune_media)


def cmd_prune_media(args: argparse.Namespace) -> int:
    if args.older_than_hours < 0:
        raise CommandError("--older-than-hours: expected 0 or more")
    age = timedelta(hours=args.older_than_hours)

    async def prune(session: Session) -> tuple[str, list[str], int]:
        orphans = await media.prune(session.db, session.config, age)
        strays = await media.stray_files(session.db, session.config, age)
        return session.config.media.directory, sorted({*orphans, *strays}), len(orphans)

    # Files go once the rows are gone for good: run_in_session has committed by now.
    directory, names, orphans = run_in_session(args, prune)
    media.delete_files(directory, names)
    print(f"removed {len(names)} files ({orphans} of orphaned uploads) from {directory}")
    return 0
