"""Backup commands: backup, restore (the rules are storage/backup.py's)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from pathlib import Path

from talentfed.cli.context import CommandError, describe_schema
from talentfed.cli.output import print_json
from talentfed.config import load_config
from talentfed.storage import backup

SECRET = (
    "It holds every actor's private key: keep it as secret as the node itself "
    "(whoever has it can sign as any of your members)."
)


def register(commands: argparse._SubParsersAction) -> None:
    make = commands.add_parser(
        "backup",
        help="back up the database, with every actor's private key, and the uploaded pictures to PATH",
        description="Write a backup of the configured database and of the uploaded pictures "
        "([media] directory) to PATH, safe while the node runs: SQLite through its online backup "
        "API, PostgreSQL through pg_dump (custom format). PATH is written whole or not at all and "
        "is readable by its owner only. The backup holds every actor's private key: keep it secret.",
    )
    make.add_argument("path", metavar="PATH", type=Path, help="the backup file to write")
    make.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    make.add_argument("--json", action="store_true", help="print the backup's manifest as JSON")
    make.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup (stop the node first)",
        description="Restore the backup at PATH into the configured database, and its pictures into "
        "[media] directory. Stop the node and its workers first. Refuses a backup of another "
        "[node] domain, of the other back-end or of a newer schema; an older backup is restored "
        "as it is: run `talentfed migrate` afterwards.",
    )
    restore.add_argument("path", metavar="PATH", type=Path, help="a file written by `talentfed backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    restore.add_argument("--json", action="store_true", help="print what was restored as JSON")
    restore.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        made = asyncio.run(backup.back_up(config, args.path, force=args.force))
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    manifest = made.manifest
    if args.json:
        print_json(
            {
                "path": str(args.path),
                **dataclasses.asdict(manifest),
                "media_files": made.media_files,
                "holds_private_keys": True,
            }
        )
        return 0
    size = args.path.stat().st_size
    print(
        f"wrote {args.path}: {manifest.described} at schema revision {manifest.schema_revision}, "
        f"with {made.media_files} media files ({size / 1e6:.1f} MB)"
    )
    print(SECRET)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        restored = asyncio.run(backup.restore(config, args.path, force=args.force))
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    manifest, schema = restored.manifest, restored.schema
    if args.json:
        print_json(
            {
                **dataclasses.asdict(manifest),
                "database": backup.shown_url(config),
                "schema": describe_schema(schema),
                "pending_migrations": list(schema.pending),
                "media_files": restored.media_files,
                "media_directory": config.media.directory,
            }
        )
        return 0
    if restored.emptied:
        print(f"emptied {backup.shown_url(config)} first: its schema was at another revision")
    print(
        f"restored {manifest.described} made {manifest.created} by talentfed "
        f"{manifest.talentfed_version} into {backup.shown_url(config)}, "
        f"and {restored.media_files} media files into {config.media.directory}"
    )
    print(describe_schema(schema))
    if schema.pending:
        print("run `talentfed migrate` before starting the node")
    return 0
