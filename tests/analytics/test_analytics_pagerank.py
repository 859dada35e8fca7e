"""PageRank on the weighted follow graph, against a naive reference written from the definition."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentfed.analytics.pagerank import pagerank


def naive_pagerank(
    n: int,
    edges: list[tuple[int, int, float]],
    members: set[int] | None = None,
    damping: float = 0.85,
    iterations: int = 300,
) -> list[float]:
    """Power iteration with dicts: rank flows along weighted edges; dangling rank is spread evenly."""
    members = set(range(n)) if members is None else members
    weight: dict[tuple[int, int], float] = defaultdict(float)
    out: dict[int, float] = defaultdict(float)
    for u, v, w in edges:
        if u != v and w > 0 and u in members and v in members:
            weight[(u, v)] += w
            out[u] += w
    m = len(members)
    rank = {u: 1 / m for u in members}
    for _ in range(iterations):
        dangling = sum(rank[u] for u in members if out[u] == 0)
        new = {v: (1 - damping) / m + damping * dangling / m for v in members}
        for (u, v), w in weight.items():
            new[v] += damping * rank[u] * w / out[u]
        rank = new
    return [rank.get(u, 0.0) for u in range(n)]


weighted_graphs = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([0.0, 1.0, 2.0, 5.5])),
            max_size=120,
        ),
    )
)


def arrays(edges: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not edges:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    src, dst, weight = zip(*edges, strict=True)
    return np.array(src), np.array(dst), np.array(weight)


@settings(max_examples=120, deadline=None)
@given(weighted_graphs)
def test_equals_the_naive_reference(graph: tuple[int, list[tuple[int, int, float]]]) -> None:
    n, edges = graph
    src, dst, weight = arrays(edges)
    result = pagerank(src, dst, n, weights=weight, tol=1e-14, max_iter=1000)
    assert result.converged
    assert result.scores == pytest.approx(naive_pagerank(n, edges), abs=1e-9)
    assert result.scores.sum() == pytest.approx(1.0)


@settings(max_examples=80, deadline=None)
@given(weighted_graphs, st.data())
def test_restricted_to_a_subset_equals_the_reference_on_the_induced_graph(
    graph: tuple[int, list[tuple[int, int, float]]], data: st.DataObject
) -> None:
    n, edges = graph
    members = data.draw(st.sets(st.integers(0, n - 1)))
    src, dst, weight = arrays(edges)
    result = pagerank(
        src, dst, n, weights=weight, subset=np.array(sorted(members), dtype=np.int64), tol=1e-14
    )
    expected = naive_pagerank(n, edges, members) if members else [0.0] * n
    assert result.scores == pytest.approx(expected, abs=1e-9)


def test_symmetric_cycle_is_uniform_and_a_star_centre_leads() -> None:
    cycle = pagerank(np.array([0, 1, 2]), np.array([1, 2, 0]), 3)
    assert cycle.scores == pytest.approx([1 / 3] * 3)
    star = pagerank(np.array([1, 2, 3, 4]), np.zeros(4, dtype=np.int64), 5)
    assert int(np.argmax(star.scores)) == 0


def test_interactions_shift_rank_towards_whom_one_talks_to() -> None:
    # 0 follows 1 and 2, and replies to 2 a lot: 2 gets more of 0's rank than 1 does.
    plain = pagerank(np.array([0, 0]), np.array([1, 2]), 3)
    weighted = pagerank(np.array([0, 0]), np.array([1, 2]), 3, weights=np.array([1.0, 6.0]))
    assert plain.scores[1] == pytest.approx(plain.scores[2])
    assert weighted.scores[2] > weighted.scores[1]


def test_bad_input_is_refused_and_non_convergence_is_reported() -> None:
    with pytest.raises(ValueError):
        pagerank(np.array([0]), np.array([1]), 2, weights=np.array([-1.0]))
    with pytest.raises(ValueError):
        pagerank(np.array([0]), np.array([3]), 2)
    with pytest.raises(ValueError):
        pagerank(np.array([0]), np.array([1]), 2, damping=1.0)
    result = pagerank(np.array([0, 1]), np.array([1, 2]), 3, max_iter=1, tol=0.0)
    assert (result.iterations, result.converged) == (1, False)
