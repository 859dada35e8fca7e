"""Analytics commands: analytics run, discover people|projects|candidates, influence."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from talentfed.cli.context import CommandError, transaction
from talentfed.cli.output import print_json, print_table
from talentfed.config import load_config
from talentfed.domain import recommendations
from talentfed.domain.analytics_runs import run_analytics
from talentfed.domain.embeddings import embedder_for
from talentfed.domain.observed_graph import Observed, load_observed
from talentfed.domain.ranking import Ranked, ranking
from talentfed.domain.recommendations import Result


def register(commands: argparse._SubParsersAction) -> None:
    analytics = commands.add_parser("analytics", help="recompute similarity and influence")
    actions = analytics.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="recompute now (the server also does it on a schedule)",
        description="Recompute similarity, influence and members' recommendations.",
    )
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=cmd_analytics_run)

    discover = commands.add_parser("discover", help="who and what fits: people, projects, candidates")
    kinds = discover.add_subparsers(dest="kind", required=True, metavar="KIND")
    people = kinds.add_parser("people", help="people elsewhere who work on what USER works on")
    people.add_argument("user", metavar="USER")
    people.add_argument("--all-institutions", action="store_true", help="include USER's own institution")
    projects = kinds.add_parser("projects", help="open project calls that fit USER (or a team of users)")
    projects.add_argument("user", metavar="USER", nargs="+")
    found = kinds.add_parser("candidates", help="people who fit a project call")
    found.add_argument("project", metavar="PROJECT_URL")
    for parser in (people, projects, found):
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=cmd_discover)

    influence = commands.add_parser("influence", help="whose voice carries: influence ranking")
    influence.add_argument("--skill", help="rank within the actors who carry this skill")
    influence.add_argument("--measure", choices=("influence", "pagerank"), default="influence")
    influence.add_argument("--limit", type=int, default=20)
    influence.add_argument("--json", action="store_true")
    influence.set_defaults(handler=cmd_influence)


def cmd_analytics_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    def progress(message: str) -> None:
        if not args.json:
            print(f"  {message}", file=sys.stderr)

    async def body() -> dict:
        async with transaction(config) as session:
            run = await run_analytics(session, config, progress, embedder_for(config))
            return {
                "computed_at": run.computed_at.isoformat(),
                "actors": run.actors,
                "edges": run.edges,
                "projects": run.projects,
                "seconds": round(run.seconds, 3),
            }

    record = asyncio.run(body())
    if args.json:
        print_json(record)
    else:
        print(
            f"computed at {record['computed_at']}: {record['actors']} actors, {record['edges']} edges, "
            f"{record['projects']} project calls in {record['seconds']} s"
        )
    return 0


def _limit(value: int) -> int:
    if not 1 <= value <= 200:
        raise CommandError("--limit: expected 1 to 200")
    return value


def _row_of(observed: Observed, username: str) -> int:
    for row, actor in enumerate(observed.actors):
        if actor.local and actor.handle.startswith(f"@{username}@"):
            return row
    raise CommandError(f"username: no member called {username!r}")


def cmd_discover(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    limit = _limit(args.limit)

    async def body() -> list[Result]:
        async with transaction(config) as session:
            observed = await load_observed(session, config)
            if args.kind == "people":
                row = _row_of(observed, args.user)
                return recommendations.similar_people(
                    observed, row, limit, other_institutions=not args.all_institutions
                )
            if args.kind == "projects":
                rows = [_row_of(observed, user) for user in args.user]
                return recommendations.matching_projects(observed, rows, limit)
            index = next((i for i, p in enumerate(observed.projects) if p.uri == args.project), None)
            if index is None:
                raise CommandError(f"{args.project}: not a project call this node knows")
            return recommendations.candidates(observed, index, limit)

    results = asyncio.run(body())
    if args.json:
        print_json([dataclasses.asdict(result) for result in results])
    else:
        print_table(
            ("score", "who / what", "why", "url"),
            [(f"{r.score:.3f}", r.title, r.why, r.uri) for r in results],
            empty="nothing found",
        )
    return 0


def cmd_influence(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    limit = _limit(args.limit)

    async def body() -> list[Ranked]:
        async with transaction(config) as session:
            observed = await load_observed(session, config)
            return ranking(observed, skill=args.skill, measure=args.measure)[:limit]

    ranked = asyncio.run(body())
    if args.json:
        print_json([dataclasses.asdict(entry) for entry in ranked])
    else:
        print_table(
            ("influence", "pagerank", "handle", "name"),
            [(f"{r.influence:.4f}", f"{r.pagerank:.4f}", r.handle, r.name) for r in ranked],
            empty="nobody ranked yet",
        )
    return 0
