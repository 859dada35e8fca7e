"""Influence I(u) = (1/|N(u)|) · Σ_{v∈N(u)} 1/√|N(v)|: by hand, against a naive reference, incrementally."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentfed.analytics.influence import (
    InfluenceGraph,
    adjacency,
    influence,
    influence_from_adjacency,
    undirected_edges,
)


def naive_influence(n: int, edges: list[tuple[int, int]], members: set[int] | None = None) -> list[float]:
    """Straight from the formula, one vertex at a time, with Python sets."""
    members = set(range(n)) if members is None else members
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        if a != b and a in members and b in members:
            neighbours[a].add(b)
            neighbours[b].add(a)
    result = []
    for u in range(n):
        if not neighbours[u]:
            result.append(0.0)
            continue
        total = sum(1 / math.sqrt(len(neighbours[v])) for v in neighbours[u])
        result.append(total / len(neighbours[u]))
    return result


def test_small_graph_computed_by_hand() -> None:
    # Follows: 0→1 and 1→0 (mutual: one neighbour each way), 0→2, 3→0, 2→3, 1→1 (self: ignored),
    # 0→2 again (a duplicate). Vertex 4 follows nobody and nobody follows it.
    #   N(0) = {1, 2, 3}  |N| = 3
    #   N(1) = {0}        |N| = 1
    #   N(2) = {0, 3}     |N| = 2
    #   N(3) = {0, 2}     |N| = 2
    #   N(4) = {}         |N| = 0
    # I(0) = (1/3)(1/√1 + 1/√2 + 1/√2) = (1 + √2)/3         ≈ 0.804738
    # I(1) = (1/1)(1/√3)                = 1/√3              ≈ 0.577350
    # I(2) = (1/2)(1/√3 + 1/√2)                             ≈ 0.642229
    # I(3) = (1/2)(1/√3 + 1/√2)  (same neighbourhood sizes) ≈ 0.642229
    # I(4) = 0 (empty neighbourhood)
    src = np.array([0, 1, 0, 3, 2, 1, 0])
    dst = np.array([1, 0, 2, 0, 3, 1, 2])
    expected = [(1 + math.sqrt(2)) / 3, 1 / math.sqrt(3), 0.642229, 0.642229, 0.0]
    assert influence(src, dst, 5) == pytest.approx(expected, abs=1e-6)
    assert influence(src, dst, 5)[2] == pytest.approx((1 / math.sqrt(3) + 1 / math.sqrt(2)) / 2)


def test_edges_are_undirected_deduplicated_and_without_self_loops() -> None:
    low, high = undirected_edges(np.array([0, 1, 2, 2, 0]), np.array([1, 0, 2, 0, 2]))
    assert list(zip(low.tolist(), high.tolist(), strict=True)) == [(0, 1), (0, 2)]
    matrix = adjacency(low, high, 3)
    assert (matrix != matrix.T).nnz == 0
    assert matrix.toarray().tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0]]
    assert matrix.has_canonical_format


def test_vertex_ids_must_fit() -> None:
    with pytest.raises(ValueError):
        influence(np.array([0]), np.array([5]), 3)
    with pytest.raises(ValueError):
        influence(np.array([-1]), np.array([0]), 3)


graphs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=150),
    )
)


def as_arrays(edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_vectorised_influence_equals_the_naive_reference(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = graph
    src, dst = as_arrays(edges)
    expected = naive_influence(n, edges)
    assert influence(src, dst, n) == pytest.approx(expected, abs=1e-12)
    low, high = undirected_edges(src, dst)
    assert influence_from_adjacency(adjacency(low, high, n)) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(graphs, st.data())
def test_restricted_to_a_subset_equals_the_reference_on_the_induced_graph(
    graph: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    n, edges = graph
    members = data.draw(st.sets(st.integers(0, n - 1)))
    src, dst = as_arrays(edges)
    expected = naive_influence(n, edges, members)
    assert influence(src, dst, n, subset=np.array(sorted(members), dtype=np.int64)) == pytest.approx(
        expected, abs=1e-12
    )
    mask = np.zeros(n, dtype=bool)
    mask[list(members)] = True
    assert influence(src, dst, n, subset=mask) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(
        st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45)), max_size=25),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([0.0, 0.25, 10.0]),
)
def test_incremental_updates_equal_a_full_recompute(
    n: int, batches: list[list[tuple[int, int]]], compact_fraction: float
) -> None:
    # The first batch (ids below n) builds the graph; later batches may bring new vertices.
    first = [(a, b) for a, b in batches[0] if a < n and b < n]
    graph = InfluenceGraph(*as_arrays(first), n, compact_fraction=compact_fraction)
    seen = list(first)
    for batch in batches[1:]:
        before_influence = graph.influence.copy()
        before_n = graph.n
        changed = graph.add_edges(*as_arrays(batch))
        seen += batch
        size = max([n, *(max(a, b) + 1 for a, b in seen)])
        expected = naive_influence(size, seen)
        assert graph.n == size
        assert graph.influence == pytest.approx(expected, abs=1e-12)
        # Vertices not reported as changed kept their value (up to rounding: a merge of the side
        # list recomputes every sum from scratch).
        untouched = np.setdiff1d(np.arange(before_n), changed)
        assert graph.influence[untouched] == pytest.approx(before_influence[untouched], abs=1e-12)
        low, high = graph.edges()
        assert np.array_equal(
            graph.degree, np.bincount(low, minlength=size) + np.bincount(high, minlength=size)
        )
    assert graph.n_edges == undirected_edges(*as_arrays(seen))[0].size


def test_an_update_touches_only_the_new_edges_ends_and_their_neighbours() -> None:
    # A path 0-1-2-3-4-5; adding 0-2 changes the degrees of 0 and 2, so 0, 1, 2, 3 are recomputed.
    graph = InfluenceGraph(np.arange(5), np.arange(1, 6), 6)
    changed = graph.add_edges(np.array([0, 2]), np.array([2, 0]))  # a mutual follow: one edge
    assert changed.tolist() == [0, 1, 2, 3]
    assert graph.add_edges(np.array([2]), np.array([1])).size == 0  # already known
    full = influence(np.array([0, 1, 2, 3, 4, 0]), np.array([1, 2, 3, 4, 5, 2]), 6)
    assert graph.influence == pytest.approx(full, abs=1e-15)
