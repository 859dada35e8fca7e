"""Content commands: user set, post, answer, accept, project, delete, posts."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from pathlib import Path

from talentfed.cli.context import CommandError
from talentfed.cli.output import print_json, print_table
from talentfed.cli.social import Session, member_actor, run_in_session
from talentfed.domain import posts
from talentfed.domain.members import ProfileChanges, update_profile
from talentfed.domain.posts import Draft
from talentfed.federation.remote_posts import PostUnavailable
from talentfed.storage.models import Object


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _date(text: str) -> datetime:
    """YYYY-MM-DD (end of that day, UTC) or a full ISO 8601 date-time with a zone."""
    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(23, 59, 59), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD or an ISO 8601 date-time, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"expected a time zone in {text!r} (e.g. 2027-01-31T12:00+01:00)")
    return moment


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _read_body(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"--file: cannot read {path}: {exc}") from None


def register(commands: argparse._SubParsersAction) -> None:
    post = commands.add_parser(
        "post",
        help="publish an article, question, project call or note",
        description="Publish a post written in Markdown; prints its URL.",
    )
    post.add_argument("kind", choices=("article", "question", "project", "note"))
    post.add_argument("user", metavar="USER")
    post.add_argument("--title", default="", help="required for articles, questions and project calls")
    post.add_argument("--file", required=True, help="the body, a Markdown file ('-' for stdin)")
    post.add_argument("--summary", default="", help="an article's summary (shown by Mastodon)")
    post.add_argument("--tags", type=_csv, default=(), help="comma-separated hashtags")
    post.add_argument("--skills", type=_csv, default=(), help="comma-separated skills (project calls)")
    post.add_argument("--deadline", type=_date, help="project deadline: YYYY-MM-DD or ISO 8601")
    post.add_argument("--team-size", type=int, help="people the project looks for")
    post.add_argument("--contact", default="", help="how to get in touch about a project")
    post.add_argument("--language", default="en", help="language code of the text (default en)")
    post.add_argument("--visibility", default="public", choices=("public", "unlisted", "followers"))
    post.add_argument("--json", action="store_true", help="print the post as JSON")
    post.set_defaults(handler=cmd_post)

    answer = commands.add_parser("answer", help="answer a question", description="Reply to a question.")
    answer.add_argument("user", metavar="USER")
    answer.add_argument("question", metavar="QUESTION_URL")
    answer.add_argument("--file", required=True, help="the answer, a Markdown file ('-' for stdin)")
    answer.add_argument("--json", action="store_true")
    answer.set_defaults(handler=cmd_answer)

    accept = commands.add_parser("accept", help="accept an answer to your question")
    accept.add_argument("user", metavar="USER")
    accept.add_argument("answer", metavar="ANSWER_URL")
    accept.set_defaults(handler=cmd_accept)

    project = commands.add_parser("project", help="close, fill or reopen a project call")
    project.add_argument("action", choices=("close", "fill", "reopen"))
    project.add_argument("user", metavar="USER")
    project.add_argument("project", metavar="PROJECT_URL")
    project.set_defaults(handler=cmd_project)

    delete = commands.add_parser("delete", help="delete a post (federated as Delete)")
    delete.add_argument("user", metavar="USER")
    delete.add_argument("url", metavar="URL")
    delete.set_defaults(handler=cmd_delete)

    for verb, text in (
        ("like", "like (vote for) a post from anywhere"),
        ("boost", "announce a post to your followers"),
        ("unlike", "take a like back"),
        ("unboost", "take a boost back"),
    ):
        react = commands.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        react.add_argument("user", metavar="USER")
        react.add_argument("url", metavar="URL")
        react.set_defaults(
            handler=cmd_react,
            verb=verb,  # cmd_react says what it did with it
            kind="like" if "like" in verb else "announce",
            undo=verb.startswith("un"),
        )

    for verb in ("pin", "unpin"):
        pin = commands.add_parser(
            verb, help=f"{verb} a post on the member's profile (the featured collection)"
        )
        pin.add_argument("user", metavar="USER")
        pin.add_argument("url", metavar="URL")
        pin.set_defaults(handler=cmd_pin, pinned=verb == "pin")

    listing = commands.add_parser("posts", help="list a member's posts")
    listing.add_argument("user", metavar="USER")
    listing.add_argument("--kind", choices=("article", "question", "answer", "project", "note"))
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=cmd_posts)


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", metavar="USER")
    parser.add_argument("--display-name")
    parser.add_argument("--headline")
    parser.add_argument("--bio-file", help="the bio, a Markdown file")
    parser.add_argument("--department")
    parser.add_argument("--avatar-url", help="an https URL of the profile picture")
    parser.add_argument("--skills", type=_csv, help="comma-separated skills (replaces the list)")
    parser.add_argument("--field", type=_field, action="append", help="NAME=VALUE profile field (repeatable)")
    for flag in ("open-to-collaboration", "discoverable", "indexable", "manual-approval"):
        parser.add_argument(f"--{flag}", type=_bool, metavar="true|false")
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.set_defaults(handler=cmd_user_set)


def post_record(post: Object) -> dict:
    return {
        "url": post.uri,
        "kind": post.kind,
        "title": post.name,
        "published": post.published.isoformat(),
        "skills": post.skills,
        "status": post.status,
        "deadline": post.deadline.isoformat() if post.deadline else None,
        "in_reply_to": post.in_reply_to_uri,
        "accepted_answer": post.accepted_answer_uri,
    }


def cmd_user_set(args: argparse.Namespace) -> int:
    changes = ProfileChanges(
        display_name=args.display_name,
        headline=args.headline,
        bio=_read_body(args.bio_file) if args.bio_file else None,
        department=args.department,
        icon_url=args.avatar_url,
        skills=args.skills,
        fields=tuple(args.field) if args.field else None,
        open_to_collaboration=args.open_to_collaboration,
        discoverable=args.discoverable,
        indexable=args.indexable,
        manually_approves_followers=args.manual_approval,
    )

    async def body(session: Session) -> dict:
        member = await member_actor(session, args.user)
        actor = await update_profile(session.db, session.config, member, changes)
        return {
            "handle": f"@{actor.handle}",
            "headline": actor.headline,
            "skills": actor.skills,
            "open_to_collaboration": actor.open_to_collaboration,
            "discoverable": actor.discoverable,
            "indexable": actor.indexable,
            "avatar": actor.icon_url,
        }

    record = run_in_session(args, body)
    if args.json:
        print_json(record)
    else:
        print(f"updated {record['handle']}")
    return 0


async def _publish(session: Session, user: str, draft: Draft) -> dict:
    # Before the first statement, so no transaction is open while other servers answer.
    mentions = await posts.resolve_mentions(session.federation.actors, draft.body)
    member = await member_actor(session, user)
    post = await posts.publish(session.db, session.config, member, draft, mentions=mentions)
    return post_record(post)


def _print_post(args: argparse.Namespace, record: dict) -> None:
    if args.json:
        print_json(record)
    else:
        print(record["url"])


def cmd_post(args: argparse.Namespace) -> int:
    draft = Draft(
        kind=args.kind,
        title=args.title,
        body=_read_body(args.file),
        summary=args.summary,
        tags=args.tags,
        skills=args.skills,
        language=args.language,
        deadline=args.deadline,
        visibility=args.visibility,
        status="open" if args.kind == "project" else None,
        team_size=args.team_size,
        contact=args.contact or None,
    )
    _print_post(args, run_in_session(args, lambda session: _publish(session, args.user, draft)))
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    draft = Draft(kind="answer", body=_read_body(args.file), in_reply_to=args.question)

    async def body(session: Session) -> dict:
        await _known_post(session, args.question)
        return await _publish(session, args.user, draft)

    _print_post(args, run_in_session(args, body))
    return 0


async def _known_post(session: Session, url: str) -> Object:
    """A post we have, fetching (and storing) it from its server when we do not yet."""
    post = await posts.find_object(session.db, url)
    if post is not None:
        return post
    try:
        return await session.db.merge(await session.federation.fetch_post(url))
    except PostUnavailable as exc:
        raise CommandError(f"{url}: {exc}") from None


def cmd_accept(args: argparse.Namespace) -> int:
    async def body(session: Session) -> str:
        member = await member_actor(session, args.user)
        answer = await _known_post(session, args.answer)
        question = await posts.find_object(session.db, answer.in_reply_to_uri or "")
        if question is None:
            raise CommandError(f"{args.answer}: not an answer to a question of this node")
        await posts.accept_answer(session.db, session.config, member, question, answer)
        return question.uri

    print(f"accepted {args.answer} as the answer to {run_in_session(args, body)}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    status = {"close": "closed", "fill": "filled", "reopen": "open"}[args.action]

    async def body(session: Session) -> None:
        member = await member_actor(session, args.user)
        project = await _own_post(session, args.project)
        await posts.set_project_status(session.db, session.config, member, project, status)

    run_in_session(args, body)
    print(f"{args.project}: {status}")
    return 0


async def _own_post(session: Session, url: str) -> Object:
    post = await posts.find_object(session.db, url)
    if post is None or not post.local:
        raise CommandError(f"{url}: not a post of this node")
    return post


def cmd_delete(args: argparse.Namespace) -> int:
    async def body(session: Session) -> None:
        member = await member_actor(session, args.user)
        await posts.delete(session.db, session.config, member, await _own_post(session, args.url))

    run_in_session(args, body)
    print(f"deleted {args.url}")
    return 0


def cmd_react(args: argparse.Namespace) -> int:
    async def body(session: Session) -> None:
        member = await member_actor(session, args.user)
        post = await _known_post(session, args.url)
        if args.undo:
            await posts.unreact(session.db, session.config, member, post, args.kind)
        else:
            await posts.react(session.db, session.config, member, post, args.kind)

    run_in_session(args, body)
    print(f"{args.verb}: {args.url}")
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    async def body(session: Session) -> None:
        member = await member_actor(session, args.user)
        await posts.set_pinned(session.db, member, await _own_post(session, args.url), args.pinned)

    run_in_session(args, body)
    print(f"{'pinned' if args.pinned else 'unpinned'} {args.url}")
    return 0


def cmd_posts(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[dict]:
        member = await member_actor(session, args.user)
        return [post_record(post) for post in await posts.posts_of(session.db, member, kind=args.kind)]

    records = run_in_session(args, body)
    if args.json:
        print_json(records)
    else:
        rows = [(r["kind"], r["title"] or "", r["status"] or "", r["url"]) for r in records]
        print_table(("kind", "title", "status", "url"), rows, empty="no posts")
    return 0
