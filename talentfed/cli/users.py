"""Member accounts: `talentfed user add|list`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from talentfed.cli.content import add_profile_arguments
from talentfed.cli.context import CommandError, transaction
from talentfed.cli.output import print_json, print_table
from talentfed.config import load_config
from talentfed.domain.accounts import set_password
from talentfed.domain.invitations import create_invitation
from talentfed.domain.members import (
    NewMember,
    add_member,
    find_member,
    issue_api_token,
    list_members,
)
from talentfed.storage.models import Actor, User


def register(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser("user", help="manage member accounts", description="Manage member accounts.")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="create a member (a Person actor with an RSA-2048 key pair)",
        description="Create a member: a Person actor with an RSA-2048 key pair and a login account.",
    )
    add.add_argument("name", metavar="NAME", help="username: 1-30 lowercase letters, digits or _")
    add.add_argument("--display-name", required=True, help="the name shown on the profile")
    add.add_argument("--skills", default="", help="comma-separated skills, e.g. 'NLP,Machine Learning'")
    add.add_argument("--headline", default="", help="one line under the name")
    add.add_argument("--bio", default="", help="a longer description in Markdown")
    add.add_argument("--department", default="", help="free-text department or group")
    add.add_argument("--admin", action="store_true", help="give the account the admin role")
    add.add_argument("--manual-approval", action="store_true", help="approve followers by hand")
    add.add_argument("--json", action="store_true", help="print the new member as JSON")
    add.set_defaults(handler=cmd_user_add)

    profile = actions.add_parser(
        "set",
        help="edit a member's profile (federated to followers as Update)",
        description="Edit a member's profile; followers receive Update(Person).",
    )
    add_profile_arguments(profile)

    token = actions.add_parser(
        "token",
        help="issue an API token for a member (replaces the previous one)",
        description="Print a new bearer token for the JSON API; only its hash is stored.",
    )
    token.add_argument("name", metavar="NAME")
    token.set_defaults(handler=cmd_user_token)

    password = actions.add_parser(
        "password",
        help="set a member's password for the web interface",
        description="Set a member's password (read from standard input, or asked for on a terminal).",
    )
    password.add_argument("name", metavar="NAME")
    password.set_defaults(handler=cmd_user_password)

    invite = actions.add_parser(
        "invite",
        help="print a single-use invitation link for a new member",
        description="Print a link with which one new member chooses a name and password.",
    )
    invite.add_argument("--admin", action="store_true", help="the new member becomes an admin")
    invite.add_argument("--note", default="", help="whom it is for (shown to admins)")
    invite.set_defaults(handler=cmd_user_invite)

    listing = actions.add_parser("list", help="list members", description="List the node's members.")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=cmd_user_list)


def _member_record(actor: Actor, user: User) -> dict:
    return {
        "username": actor.username,
        "handle": f"@{actor.handle}",
        "uri": actor.uri,
        "display_name": actor.display_name,
        "role": user.role,
        "skills": actor.skills,
        "manually_approves_followers": actor.manually_approves_followers,
        "created_at": actor.created_at.isoformat(),
    }


def cmd_user_add(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    new = NewMember(
        username=args.name,
        display_name=args.display_name,
        skills=tuple(s for s in args.skills.split(",") if s.strip()),
        headline=args.headline,
        bio=args.bio,
        department=args.department,
        role="admin" if args.admin else "member",
        manually_approves_followers=args.manual_approval,
    )

    async def run() -> dict:
        async with transaction(config) as session:
            await add_member(session, config, new)
            actor, user = await find_member(session, new.username)
            return _member_record(actor, user)

    record = asyncio.run(run())
    if args.json:
        print_json(record)
    else:
        print(f"created {record['handle']} ({record['uri']})")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run() -> list[dict]:
        async with transaction(config) as session:
            return [_member_record(actor, user) for actor, user in await list_members(session)]

    records = asyncio.run(run())
    if args.json:
        print_json(records)
    else:
        rows = [(r["handle"], r["display_name"], r["role"], ", ".join(r["skills"])) for r in records]
        print_table(("handle", "name", "role", "skills"), rows, empty="no members yet")
    return 0


def cmd_user_token(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run() -> str:
        async with transaction(config) as session:
            return await issue_api_token(session, args.name)

    print(asyncio.run(run()))
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != first:
            raise CommandError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_user_password(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    password = _read_password()

    async def run() -> None:
        async with transaction(config) as session:
            _, user = await find_member(session, args.name)
            await set_password(session, user, password)

    asyncio.run(run())
    print(f"password set for {args.name}; other sign-ins of this member have ended")
    return 0


def cmd_user_invite(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run() -> str:
        async with transaction(config) as session:
            role = "admin" if args.admin else "member"
            return await create_invitation(session, config, created_by=None, role=role, note=args.note)

    token = asyncio.run(run())
    print(f"{config.node.base_url}/join?invitation={token}")
    print(f"(works once, for {config.web.invitation_days} days)", file=sys.stderr)
    return 0
