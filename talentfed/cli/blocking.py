"""Blocks and mutes: `talentfed block|unblock|mute|unmute USER HANDLE` and
`talentfed blocks|mutes USER`; the rules are domain/member_blocks.py and domain/mutes.py."""

from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import Select

from talentfed.cli.output import print_json, print_table
from talentfed.cli.social import Session, member_actor, remote_actor, run_in_session
from talentfed.domain import member_blocks, mutes
from talentfed.storage.models import AccountBlock, AccountMute, Actor


def register(commands: argparse._SubParsersAction) -> None:
    for name, handler, text in (
        ("block", _block, "make USER block HANDLE (ends follows both ways; sends a Block)"),
        ("unblock", _unblock, "lift USER's block of HANDLE (sends Undo(Block))"),
        ("mute", _mute, "hide HANDLE's posts (and notifications) from USER; nothing is sent"),
        ("unmute", _unmute, "lift USER's mute of HANDLE"),
    ):
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        command.add_argument("user", metavar="USER", help="a local member's username")
        command.add_argument("target", metavar="HANDLE", help="@user@domain or an actor URL")
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        command.set_defaults(handler=handler)
        if name == "mute":
            command.add_argument(
                "--duration", type=int, default=0, metavar="SECONDS", help="how long (default 0: for ever)"
            )
            command.add_argument(
                "--keep-notifications",
                dest="hide_notifications",
                action="store_false",
                help="mute their posts only, not their notifications",
            )
            command.add_argument(
                "--hide-notifications",
                dest="hide_notifications",
                action="store_true",
                default=True,
                help="hide their notifications too (the default)",
            )
    for name, text in (("blocks", "the accounts USER blocks"), ("mutes", "the accounts USER mutes")):
        command = commands.add_parser(name, help=f"list {text}", description=f"List {text}.")
        command.add_argument("user", metavar="USER")
        command.add_argument("--json", action="store_true", help="print one JSON document")
        command.set_defaults(handler=_list, listing=name)


def _done(args: argparse.Namespace, record: dict[str, object]) -> int:
    if args.json:
        print_json(record)
    else:
        print(f"{record['member']} {record['done']} {record['account']}")
    return 0


def _block(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict[str, object]:
        member, target = await member_actor(session, args.user), await remote_actor(session, args.target)
        await member_blocks.block(session.db, session.config, member, target)
        return {"member": f"@{member.handle}", "done": "blocks", "account": f"@{target.handle}"}

    return _done(args, run_in_session(args, body))


def _unblock(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict[str, object]:
        member, target = await member_actor(session, args.user), await remote_actor(session, args.target)
        lifted = await member_blocks.unblock(session.db, session.config, member, target)
        done = "no longer blocks" if lifted else "did not block"
        return {"member": f"@{member.handle}", "done": done, "account": f"@{target.handle}"}

    return _done(args, run_in_session(args, body))


def _mute(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict[str, object]:
        member, target = await member_actor(session, args.user), await remote_actor(session, args.target)
        made = await mutes.mute(
            session.db, member, target, notifications=args.hide_notifications, duration=args.duration
        )
        return {
            "member": f"@{member.handle}",
            "done": "mutes",
            "account": f"@{target.handle}",
            "notifications": made.notifications,
            "expires_at": _when(made.expires_at),
        }

    return _done(args, run_in_session(args, body))


def _unmute(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict[str, object]:
        member, target = await member_actor(session, args.user), await remote_actor(session, args.target)
        lifted = await mutes.unmute(session.db, member, target)
        done = "no longer mutes" if lifted else "did not mute"
        return {"member": f"@{member.handle}", "done": done, "account": f"@{target.handle}"}

    return _done(args, run_in_session(args, body))


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _list(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[dict[str, object]]:
        member = await member_actor(session, args.user)
        if args.listing == "blocks":
            blocks: Select[Actor, AccountBlock] = member_blocks.blocked_rows(member.id)
            rows = await session.db.execute(blocks.order_by(AccountBlock.id.desc()))
            return [{"handle": f"@{actor.handle}", "since": _when(row.created_at)} for actor, row in rows]
        muted: Select[Actor, AccountMute] = mutes.muted_rows(member.id)
        found = await session.db.execute(muted.order_by(AccountMute.id.desc()))
        return [
            {
                "handle": f"@{actor.handle}",
                "since": _when(row.created_at),
                "notifications": row.notifications,
                "expires_at": _when(row.expires_at),
            }
            for actor, row in found
        ]

    records = run_in_session(args, body)
    if args.json:
        print_json(records)
    elif not records:
        print(f"{args.user} {args.listing} nobody")
    else:
        columns = tuple(records[0])
        print_table(columns, [tuple(record[column] for column in columns) for record in records])
    return 0
