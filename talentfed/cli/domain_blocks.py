"""`talentfed domain-blocks …`: list, add, remove, export, import and purge domain blocks.

The same rules as the admin page (`domain/moderation.py`, `domain/block_lists.py`); the CSV is
Mastodon's, so a block list moves between Mastodon and talentfed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.cli.context import CommandError, open_engine, transaction
from talentfed.cli.output import print_table
from talentfed.config import Config, load_config
from talentfed.domain import block_lists, moderation
from talentfed.federation.blocks import SEVERITIES
from talentfed.jobs.domain_purge import purge_until_done
from talentfed.storage.db import session_factory


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "domain-blocks",
        help="moderate whole domains (suspend, silence, reject media); Mastodon's CSV in and out",
        description="Domain blocks with Mastodon's severities; docs/moderation.md says what each does.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the blocks in force").set_defaults(handler=cmd_list)
    add = actions.add_parser("add", help="block a domain, or change its block")
    add.add_argument("domain")
    add.add_argument(
        "--severity", default="suspend", help=f"one of {', '.join(SEVERITIES)} (default suspend)"
    )
    add.add_argument("--reject-media", action="store_true")
    add.add_argument("--reject-reports", action="store_true")
    add.add_argument("--obfuscate", action="store_true")
    add.add_argument("--public-comment", default="")
    add.add_argument("--private-comment", default="")
    add.set_defaults(handler=cmd_add)
    remove = actions.add_parser("remove", help="lift a domain's block")
    remove.add_argument("domain")
    remove.set_defaults(handler=cmd_remove)
    export = actions.add_parser("export", help="write the blocks as Mastodon's CSV (- for stdout)")
    export.add_argument("file")
    export.set_defaults(handler=cmd_export)
    load = actions.add_parser(
        "import", help="add the blocks of a Mastodon CSV: all of them or, on an error, none"
    )
    load.add_argument("file")
    load.set_defaults(handler=cmd_import)
    purge = actions.add_parser(
        "purge", help="delete now what suspended domains left here (the job does it too)"
    )
    purge.set_defaults(handler=cmd_purge)


T = TypeVar("T")


def _in_transaction(args: argparse.Namespace, body: Callable[[AsyncSession, Config], Awaitable[T]]) -> T:
    """Run `body` in one transaction of the node's database, committed when it returns."""

    async def main() -> T:
        config = load_config(args.config)
        async with transaction(config) as session:
            return await body(session, config)

    return asyncio.run(main())


def cmd_list(args: argparse.Namespace) -> int:
    rows = [
        (b.domain, b.terms.severity, _flags(b.terms), b.terms.public_comment, b.terms.private_comment)
        for b in _in_transaction(args, moderation.list_blocks)
    ]
    print_table(("domain", "severity", "options", "public comment", "private comment"), rows)
    return 0


def _flags(terms: moderation.BlockTerms) -> str:
    named = {
        "reject-media": terms.reject_media,
        "reject-reports": terms.reject_reports,
        "obfuscate": terms.obfuscate,
    }
    return ",".join(name for name, on in named.items() if on)


def cmd_add(args: argparse.Namespace) -> int:
    terms = moderation.BlockTerms(
        args.severity,
        args.reject_media,
        args.reject_reports,
        args.obfuscate,
        args.public_comment,
        args.private_comment,
    )

    async def save(session: AsyncSession, config: Config) -> str:
        return await moderation.save_block(session, config, args.domain, terms)

    print(f"{_in_transaction(args, save)} is blocked ({terms.severity})")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    async def lift(session: AsyncSession, config: Config) -> None:
        await moderation.unblock_domain(session, config, args.domain)

    _in_transaction(args, lift)
    print(f"{args.domain} is no longer blocked")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    text = _in_transaction(args, block_lists.export_csv)
    if args.file == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"file: cannot write {args.file} ({exc.strerror})") from None
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as handle:
            data = handle.read(block_lists.MAX_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"file: cannot read {args.file} ({exc.strerror})") from None

    async def add(session: AsyncSession, config: Config) -> block_lists.ImportResult:
        found = block_lists.read_csv(config, data, source=Path(args.file).name)
        return await block_lists.import_blocks(session, config, found)

    result = _in_transaction(args, add)
    print(f"{len(result.added)} blocks imported; {len(result.kept)} domains were blocked already")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    async def main() -> int:
        config = load_config(args.config)
        engine = await open_engine(config)
        try:
            return await purge_until_done(session_factory(engine), config)
        finally:
            await engine.dispose()

    print(f"{asyncio.run(main())} rows of suspended domains deleted")
    return 0
