"""Moving accounts: `talentfed alias add|remove|list USER …` (moving in) and
`talentfed move USER HANDLE` (moving out); the rules are domain/moves.py."""

from __future__ import annotations

import argparse

from talentfed.cli.output import print_json
from talentfed.cli.social import Session, member_actor, run_in_session
from talentfed.domain import moves


def register(commands: argparse._SubParsersAction) -> None:
    alias = commands.add_parser(
        "alias",
        help="name the old accounts that may move to a member (alsoKnownAs)",
        description="Aliases: the old accounts a member moves in from; an old account may move "
        "here only once it is listed.",
    )
    actions = alias.add_subparsers(dest="action", required=True, metavar="ACTION")
    for verb, handler, text in (
        ("add", _add_alias, "let the account HANDLE move to USER"),
        ("remove", _remove_alias, "take HANDLE off USER's aliases"),
    ):
        command = actions.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        command.add_argument("user", metavar="USER", help="a local member's username")
        command.add_argument("target", metavar="HANDLE", help="@user@domain or an actor URL")
        command.add_argument("--json", action="store_true", help="print the aliases as JSON")
        command.set_defaults(handler=handler)
    listing = actions.add_parser("list", help="USER's aliases", description="List a member's aliases.")
    listing.add_argument("user", metavar="USER")
    listing.add_argument("--json", action="store_true", help="print the aliases as JSON")
    listing.set_defaults(handler=_list_aliases)

    move = commands.add_parser(
        "move",
        help="move USER to the account HANDLE (which must list USER as an alias)",
        description="Move a member to another account: followers are sent a Move and follow the "
        "new account; this one shows where it went and can no longer publish.",
    )
    move.add_argument("user", metavar="USER", help="a local member's username")
    move.add_argument("target", metavar="HANDLE", help="@user@domain or an actor URL of the new account")
    move.add_argument("--json", action="store_true", help="print the result as JSON")
    move.set_defaults(handler=_move)


def _print_aliases(args: argparse.Namespace, aliases: list[str]) -> int:
    if args.json:
        print_json(aliases)
    else:
        print("\n".join(aliases) if aliases else f"{args.user} has no aliases")
    return 0


def _add_alias(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[str]:
        member = await member_actor(session, args.user)
        account = await moves.find_account(session.federation.actors, "alias", args.target)
        await moves.add_alias(session.db, session.config, member, await session.db.merge(account))
        return list(member.also_known_as)

    return _print_aliases(args, run_in_session(args, body))


def _remove_alias(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[str]:
        member = await member_actor(session, args.user)
        found = args.target
        if not found.startswith(("https://", "http://")):  # a handle: the account it names
            found = (await moves.find_account(session.federation.actors, "alias", found)).uri
        await moves.remove_alias(session.db, session.config, member, found)
        return list(member.also_known_as)

    return _print_aliases(args, run_in_session(args, body))


def _list_aliases(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[str]:
        return list((await member_actor(session, args.user)).also_known_as or [])

    return _print_aliases(args, run_in_session(args, body))


def _move(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict:
        member = await member_actor(session, args.user)
        target = await moves.find_account(session.federation.actors, "target", args.target)
        carried = await moves.move_out(session.db, session.config, member, await session.db.merge(target))
        return {"moved": f"@{member.handle}", "to": target.uri, "local_followers_carried_over": carried}

    result = run_in_session(args, body)
    if args.json:
        print_json(result)
    else:
        print(f"{result['moved']} moved to {result['to']}; its followers are being sent a Move")
    return 0
