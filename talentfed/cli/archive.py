"""A member's archive: export, import-follows (the formats are domain/member_archive.py's)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from talentfed.cli.context import CommandError
from talentfed.cli.output import print_json
from talentfed.cli.social import Runtime, Session, member_actor, node_runtime, remote_actor, run_in_session
from talentfed.domain import follows, member_archive


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a member's archive (actor, outbox, follows as Mastodon's CSV) to DIR",
        description="Write USER's archive to DIR: actor.json, outbox.json (their posts, followers-"
        "only and direct ones too), following_accounts.csv (Mastodon's format, which Mastodon imports) and "
        "followers.csv.",
    )
    export.add_argument("user", metavar="USER", help="a local member's username")
    export.add_argument("directory", metavar="DIR", type=Path, help="created if missing")
    export.add_argument("--force", action="store_true", help="overwrite the files if DIR holds them")
    export.set_defaults(handler=cmd_export)

    imports = commands.add_parser(
        "import-follows",
        help="make USER follow every account of a Mastodon following list (CSV)",
        description="Follow each account in FILE, a following_accounts.csv exported by Mastodon or "
        "talentfed (or one address a line). Reports each line; a line that fails does not stop the "
        "others. Exit status 1 when any line failed.",
    )
    imports.add_argument("user", metavar="USER", help="a local member's username")
    imports.add_argument("file", metavar="FILE", type=Path, help="the CSV file ('-' for stdin)")
    imports.add_argument("--json", action="store_true", help="print one JSON record per line of FILE")
    imports.set_defaults(handler=cmd_import_follows)


def cmd_export(args: argparse.Namespace) -> int:
    async def body(session: Session) -> member_archive.Archive:
        member = await member_actor(session, args.user)
        return await member_archive.member_archive(session.db, session.config, member)

    directory: Path = args.directory
    if directory.exists() and not directory.is_dir():
        raise CommandError(f"{directory} is not a directory")
    archive = run_in_session(args, body)
    files = archive.files()
    existing = [name for name in files if (directory / name).exists()]
    if existing and not args.force:
        raise CommandError(f"{directory} already holds {', '.join(existing)} (use --force to overwrite)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (directory / name).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    print(
        f"wrote {directory}: actor.json, outbox.json ({archive.outbox['totalItems']} activities), "
        f"{member_archive.FOLLOWING_FILE} ({len(archive.following)} accounts), "
        f"{member_archive.FOLLOWERS_FILE} ({len(archive.followers)} accounts)"
    )
    return 0


def _read_list(path: Path) -> list[member_archive.ImportLine]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return member_archive.read_following_list(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except member_archive.FollowListError as exc:
        raise CommandError(f"{path}: {exc}") from None


def cmd_import_follows(args: argparse.Namespace) -> int:
    lines = _read_list(args.file)

    async def run() -> list[dict]:
        async with node_runtime(args) as runtime:
            async with runtime.transaction() as session:
                await member_actor(session, args.user)  # an unknown USER is one error, not one per line
            return [await _import_line(runtime, args.user, line) for line in lines]

    results = asyncio.run(run())
    failed = [result for result in results if not result["ok"]]
    if args.json:
        print_json(results)
    else:
        for result in results:
            print(f"line {result['line']}: {result['address']}: {result['outcome']}")
        done = len(results) - len(failed)
        print(f"{done} of {len(results)} accounts followed or asked; {len(failed)} failed")
    return 1 if failed else 0


async def _import_line(runtime: Runtime, username: str, line: member_archive.ImportLine) -> dict:
    """One line in its own transaction, so that a line that fails undoes nothing of the others.
    The lookup stores the actor in a transaction of its own and this one writes only after it,
    so no write lock is held while the lookup waits on the network."""
    outcome, ok = "", False
    try:
        async with runtime.transaction() as session:
            member = await member_actor(session, username)
            target = await remote_actor(session, line.address)
            outcome = await member_archive.import_follow(session.db, session.config, member, target)
            ok = True
    except (CommandError, follows.FollowError) as exc:
        outcome = str(exc)
    return {"line": line.number, "address": line.address, "ok": ok, "outcome": outcome}
