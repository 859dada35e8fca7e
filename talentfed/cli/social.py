"""Federation commands: lookup, follow, unfollow, followers, following, follow-requests, crawl."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.cli.context import CommandError, open_engine
from talentfed.cli.output import print_json, print_table
from talentfed.config import Config, load_config
from talentfed.domain import follows
from talentfed.domain.members import find_local_actor
from talentfed.federation.crawler import Crawler, CrawlPolicy, CrawlProgress
from talentfed.federation.remote_actors import ActorUnavailable
from talentfed.federation.runtime import Federation
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor


def register(commands: argparse._SubParsersAction) -> None:
    lookup = commands.add_parser(
        "lookup", help="fetch and print a remote actor", description="Resolve @user@domain or an actor URL."
    )
    lookup.add_argument("target", metavar="HANDLE_OR_URL")
    lookup.add_argument("--json", action="store_true", help="print the actor as JSON")
    lookup.set_defaults(handler=cmd_lookup)

    for name, handler, text in (
        ("follow", cmd_follow, "make USER follow HANDLE (sends a Follow; pending until accepted)"),
        ("unfollow", cmd_unfollow, "make USER stop following HANDLE (sends Undo(Follow))"),
    ):
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        command.add_argument("user", metavar="USER", help="a local member's username")
        command.add_argument("target", metavar="HANDLE", help="@user@domain or an actor URL")
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        command.set_defaults(handler=handler)

    for name, text in (("followers", "who follows USER"), ("following", "whom USER follows")):
        command = commands.add_parser(name, help=f"list {text}", description=f"List {text}, with states.")
        command.add_argument("user", metavar="USER")
        command.add_argument("--json", action="store_true", help="print one JSON document")
        command.set_defaults(handler=cmd_list_follows, direction=name)

    requests = commands.add_parser(
        "follow-requests",
        help="list, accept or reject follow requests",
        description="Follow requests to a member who approves followers by hand.",
    )
    actions = requests.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="pending requests to USER")
    listing.add_argument("user", metavar="USER")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_requests_list)
    for verb in ("accept", "reject"):
        command = actions.add_parser(verb, help=f"{verb} the request of HANDLE to USER")
        command.add_argument("user", metavar="USER")
        command.add_argument("target", metavar="HANDLE")
        command.set_defaults(handler=cmd_requests_answer, accept=verb == "accept")

    crawl = commands.add_parser(
        "crawl",
        help="widen the observed graph: read followers/following of the actors around our members",
        description="Crawl the followers/following collections of remote actors our members are "
        "connected to, fetching newly seen actors up to DEPTH hops. Resumes where it stopped.",
    )
    crawl.add_argument("--depth", type=int, default=1, help="hops beyond our members' contacts (default 1)")
    crawl.add_argument("--max-actors", type=int, default=5000, help="new actors to fetch at most")
    crawl.add_argument("--json", action="store_true", help="print the totals as JSON")
    crawl.set_defaults(handler=cmd_crawl)


@dataclass
class Session:
    config: Config
    db: AsyncSession
    federation: Federation


@dataclass
class Runtime:
    config: Config
    sessions: async_sessionmaker[AsyncSession]
    federation: Federation

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        async with self.sessions() as db, db.begin():
            yield Session(self.config, db, self.federation)


@contextlib.asynccontextmanager
async def node_runtime(args: argparse.Namespace) -> AsyncIterator[Runtime]:
    """The node's database and federation, for a command that needs several transactions."""
    config = load_config(args.config)
    engine = await open_engine(config)
    sessions = session_factory(engine)
    federation = await Federation.open(config, sessions)
    try:
        yield Runtime(config, sessions, federation)
    finally:
        await federation.close()
        await engine.dispose()


@contextlib.asynccontextmanager
async def _open(args: argparse.Namespace) -> AsyncIterator[Session]:
    async with node_runtime(args) as runtime, runtime.transaction() as session:
        yield session


T = TypeVar("T")


def run_in_session(args: argparse.Namespace, body: Callable[[Session], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _open(args) as session:
            return await body(session)

    return asyncio.run(main())


async def member_actor(session: Session, username: str) -> Actor:
    """A local actor by username: a member, or the institution itself."""
    actor = await find_local_actor(session.db, username)
    if actor is None:
        raise CommandError(f"username: no member called {username!r}")
    return actor


async def remote_actor(session: Session, target: str) -> Actor:
    """An actor by @user@domain or URL: the one lookup of `lookup`, `follow` and the imports."""
    try:
        actor = await session.federation.actors.resolve(target)
    except ActorUnavailable as exc:
        raise CommandError(f"cannot resolve {target}: {exc}") from None
    return await session.db.merge(actor)


def actor_record(actor: Actor) -> dict:
    return {
        "id": actor.uri,
        "handle": f"@{actor.handle}",
        "type": actor.type,
        "name": actor.display_name,
        "local": actor.local,
        "inbox": actor.inbox_url,
        "shared_inbox": actor.shared_inbox_url,
        "manually_approves_followers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
    }


def cmd_lookup(args: argparse.Namespace) -> int:
    record = run_in_session(args, lambda s: _lookup(s, args.target))
    if args.json:
        print_json(record)
    else:
        print_table(("field", "value"), [(key, value) for key, value in record.items()])
    return 0


async def _lookup(session: Session, target: str) -> dict:
    return actor_record(await remote_actor(session, target))


def cmd_follow(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict:
        member = await member_actor(session, args.user)
        target = await remote_actor(session, args.target)
        try:
            edge = await follows.follow(session.db, session.config, member, target)
        except follows.FollowError as exc:
            raise CommandError(str(exc)) from None
        return {"follower": f"@{member.handle}", "followed": f"@{target.handle}", "state": edge.state}

    _report(args, run_in_session(args, body))
    return 0


def _report(args: argparse.Namespace, result: dict) -> None:
    if args.json:
        print_json(result)
    else:
        print(f"{result['follower']} → {result['followed']}: {result['state']}")


def cmd_unfollow(args: argparse.Namespace) -> int:
    async def body(session: Session) -> dict:
        member = await member_actor(session, args.user)
        target = await remote_actor(session, args.target)
        try:
            await follows.unfollow(session.db, session.config, member, target)
        except follows.FollowError as exc:
            raise CommandError(str(exc)) from None
        return {"follower": f"@{member.handle}", "followed": f"@{target.handle}", "state": "none"}

    _report(args, run_in_session(args, body))
    return 0


def _print_edges(edges: list[follows.FollowEdge], as_json: bool) -> None:
    records = [{**actor_record(edge.actor), "state": edge.state} for edge in edges]
    if as_json:
        print_json(records)
    else:
        print_table(("handle", "name", "state"), [(r["handle"], r["name"], r["state"]) for r in records])


def cmd_list_follows(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[follows.FollowEdge]:
        member = await member_actor(session, args.user)
        if args.direction == "followers":
            return await follows.followers(session.db, member)
        return await follows.following(session.db, member)

    _print_edges(run_in_session(args, body), args.json)
    return 0


def cmd_requests_list(args: argparse.Namespace) -> int:
    async def body(session: Session) -> list[follows.FollowEdge]:
        return await follows.followers(session.db, await member_actor(session, args.user), state="pending")

    _print_edges(run_in_session(args, body), args.json)
    return 0


def cmd_requests_answer(args: argparse.Namespace) -> int:
    async def body(session: Session) -> str:
        member = await member_actor(session, args.user)
        follower = await remote_actor(session, args.target)
        try:
            await follows.answer_request(session.db, session.config, member, follower, accept=args.accept)
        except follows.FollowError as exc:
            raise CommandError(str(exc)) from None
        return f"@{follower.handle}"

    handle = run_in_session(args, body)
    print(f"{'accepted' if args.accept else 'rejected'} the follow request of {handle}")
    return 0


def _progress_line(progress: CrawlProgress) -> None:
    """One line, rewritten in place on a terminal: the crawl's progress bar."""
    done, total = progress.crawled, max(progress.queued, 1)
    filled = int(30 * min(done / total, 1.0))
    line = (
        f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{progress.queued} actors crawled, "
        f"{progress.new_actors} new actors, {progress.new_edges} new edges"
    )
    sys.stderr.write(line if sys.stderr.isatty() else line.lstrip("\r") + "\n")
    sys.stderr.flush()


def cmd_crawl(args: argparse.Namespace) -> int:
    if args.depth < 0 or args.max_actors < 0:
        raise CommandError("--depth and --max-actors: expected 0 or more")

    async def body(session: Session) -> dict:
        policy = CrawlPolicy(depth=args.depth, max_actors=args.max_actors)
        crawler = Crawler(
            session.federation.sessions,
            session.federation.fetcher,
            session.federation.actors,
            session.config,
            policy,
            on_progress=None if args.json else _progress_line,
        )
        progress = await crawler.run()
        return dataclasses.asdict(progress)

    totals = run_in_session(args, body)
    if args.json:
        print_json(totals)
    else:
        sys.stderr.write("\n")
        print(
            f"crawled {totals['crawled']} actors: {totals['new_actors']} new actors, "
            f"{totals['new_edges']} new edges, {totals['hidden']} hidden collections"
        )
    return 0
