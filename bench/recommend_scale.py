"""Recommendations over a large neighbourhood: the shortlist against scoring every candidate.

Above `SHORTLIST_FROM` candidates (domain/recommendations.py), "similar people" scores a
shortlist with the hybrid score (TF-IDF, embedding, skills, the asker's network): the best
`SHORTLIST_EACH` of each signal, the embedding's found through the approximate index
(`ClusteredIndex`). This measures, at 100k people, per query:

- the time of the shortlist against scoring every candidate exactly (the baseline, same run);
- how much of the exact top-10 the shortlist finds (recall@10; target >= 0.95);
- the time to build the index, which a snapshot pays once, off the event loop.

The data are synthetic and seeded: the profiles of bench/analytics.py (300 research fields,
skills and words drawn from each profile's fields), an embedding per profile drawn around its
fields' centres (384 dimensions, like MiniLM's; a profile's cosine with another of its field
about 0.5, with an unrelated one about 0), and bench/analytics.py's follow graph (10 follows
per person). bench/semantic.py measures the index itself on real embeddings.

    .venv/bin/python bench/recommend_scale.py [--quick] [--people N] [--queries N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import load_line, machine_line, verdict
from bench.analytics import FULL, follow_graph, profiles_with_fields
from talentfed.analytics.embeddings import unit_rows
from talentfed.analytics.features import FeatureSpace
from talentfed.domain import recommendations
from talentfed.domain.observed_graph import ActorInfo, Observed

DIMENSIONS = 384
TARGET_RECALL = 0.95
K = 10


def neighbourhood(people: int, seed: int = 3) -> Observed:
    sizes = dataclasses.replace(FULL, profiles=people)
    matrix, first, second = profiles_with_fields(sizes, seed)
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.standard_normal((sizes.fields, DIMENSIONS)).astype(np.float32))
    mixed = 0.75 * centres[first] + 0.25 * centres[second]
    embeddings = unit_rows(mixed + 0.045 * rng.standard_normal((people, DIMENSIONS)).astype(np.float32))
    vocabulary = tuple(f"skill:s{n}" for n in range(sizes.skills)) + tuple(
        f"w{n}" for n in range(sizes.words)
    )
    space = FeatureSpace(matrix, vocabulary, np.ones(len(vocabulary)), sizes.skills)
    actors = [
        ActorInfo(
            n,
            f"https://n{n % 50}.example/u/{n}",
            f"@u{n}@n{n % 50}.example",
            f"U{n}",
            f"n{n % 50}.example",
            False,
            True,
            True,
        )
        for n in range(people)
    ]
    src, dst = follow_graph(people, 10 * people, seed)
    rows = np.arange(people, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    return Observed(
        actors,
        dict(enumerate(range(people))),
        src,
        dst,
        empty,
        empty,
        [],
        space,
        rows,
        rows.copy(),
        people_embeddings=embeddings,
    )


def timed_queries(observed: Observed, askers: list[int]) -> tuple[list[float], list[set[str]]]:
    times, found = [], []
    for asker in askers:
        started = time.perf_counter()
        results = recommendations.similar_people(observed, asker, K)
        times.append((time.perf_counter() - started) * 1000)
        found.append({result.uri for result in results})
    return times, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="25k people, 10 queries")
    args = parser.parse_args()
    if args.quick:
        args.people, args.queries = 25_000, 10
    print(machine_line())
    print(f"at start: {load_line()}")
    started = time.perf_counter()
    observed = neighbourhood(args.people)
    print(f"{args.people:,} synthetic people built in {time.perf_counter() - started:.1f} s")
    askers = np.random.default_rng(5).choice(args.people, args.queries, replace=False).tolist()

    threshold = recommendations.SHORTLIST_FROM
    recommendations.SHORTLIST_FROM = sys.maxsize
    exact_ms, truth = timed_queries(observed, askers)
    recommendations.SHORTLIST_FROM = min(threshold, args.people - 1)

    started = time.perf_counter()
    asyncio.run(recommendations.prepare(observed))
    print(
        f"index of the people's embeddings built in {time.perf_counter() - started:.1f} s (once per snapshot)"
    )
    short_ms, found = timed_queries(observed, askers)
    recall = statistics.mean(len(t & f) / K for t, f in zip(truth, found, strict=True))
    exact, short = statistics.median(exact_ms), statistics.median(short_ms)
    print(f"similar people, top-{K} of {args.people - 1:,} candidates, {args.queries} queries one at a time:")
    print(f"  every candidate scored (baseline): median {exact:.1f} ms")
    print(
        f"  shortlist ({recommendations.SHORTLIST_EACH} per signal): median {short:.1f} ms, "
        f"{exact / short:.1f}x the baseline's speed"
    )
    met = verdict(recall >= TARGET_RECALL)
    print(f"  recall@{K} against the baseline: {recall:.3f} (target >= {TARGET_RECALL}): {met}")
    print(f"at end: {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
