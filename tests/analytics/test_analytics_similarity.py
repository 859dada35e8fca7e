"""Cosine similarity: the exact formula, exact top-k (against brute force), exclusions, explanations."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from talentfed.analytics import _topk
from talentfed.analytics.features import Document, build_features, l2_normalize_rows
from talentfed.analytics.similarity import SimilarityIndex, _in_processes, can_fork, cosine, team_vector


def test_worked_example_from_the_issue() -> None:
    # 32 / √(14 · 77) = 0.97463…; the "≈ 0.916" in the source document is an arithmetic slip.
    assert round(cosine([1, 2, 3], [4, 5, 6]), 4) == 0.9746
    assert cosine([1, 2, 3], [4, 5, 6]) == pytest.approx(32 / math.sqrt(14 * 77))


def test_cosine_of_a_zero_vector_is_zero_and_sparse_rows_work() -> None:
    assert cosine([0, 0, 0], [1, 2, 3]) == 0.0
    assert cosine([0, 0], [0, 0]) == 0.0
    assert cosine(sp.csr_matrix([[1.0, 0, 2]]), np.array([2.0, 0, 4])) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        cosine([1, 2], [1, 2, 3])


# --- exact top-k against brute force ---------------------------------------------------


def random_matrix(seed: int, n: int, terms: int, density: float, integers: bool) -> sp.csr_matrix:
    """Non-negative sparse rows; integer values make many exact ties, which the top-k must survive."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, terms)) < density) * (
        rng.integers(1, 4, (n, terms)) if integers else rng.random((n, terms))
    )
    return sp.csr_matrix(dense.astype(np.float64))


def brute_force(queries: np.ndarray, items: np.ndarray, excluded: set[tuple[int, int]]) -> np.ndarray:
    """Every cosine (dense, all pairs); excluded pairs and non-positive scores as -inf."""
    query_norms = np.linalg.norm(queries, axis=1)[:, None]
    item_norms = np.linalg.norm(items, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = (queries @ items.T) / (query_norms * item_norms)
    scores[~(scores > 0)] = -np.inf
    for q, i in excluded:
        scores[q, i] = -np.inf
    return scores


def assert_is_top_k(
    indices: np.ndarray, scores: np.ndarray, truth: np.ndarray, k: int, tolerance: float = 1e-12
) -> None:
    """Each row: true scores returned, best first, nothing better left out (ties may go either way)."""
    for q in range(truth.shape[0]):
        found = indices[q][indices[q] >= 0]
        expected = min(k, int(np.isfinite(truth[q]).sum()))
        assert found.size == expected
        assert len(set(found.tolist())) == found.size
        assert np.allclose(scores[q][: found.size], truth[q][found], rtol=0, atol=tolerance)
        assert np.all(np.diff(scores[q][: found.size]) <= tolerance)
        if found.size:
            left_out = np.setdiff1d(np.flatnonzero(np.isfinite(truth[q])), found)
            assert np.all(truth[q][left_out] <= scores[q][found.size - 1] + tolerance)


# The defaults, and settings that make small matrices take every path of the pruned search
# (common terms bounded, chunks skipped, queries falling back to dense scoring).
index_options = st.sampled_from(
    [
        {},
        {"head_df_fraction": 0.05, "head_min_df": 0, "chunk": 4},
        {"head_df_fraction": 0.3, "head_min_df": 0, "chunk": 8},
        {"head_df_fraction": 0.0, "head_min_df": 0, "chunk": 2},
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 150),
    terms=st.integers(1, 30),
    density=st.floats(0.02, 0.9),
    integers=st.booleans(),
    k=st.integers(1, 12),
    block_size=st.integers(1, 20),
    workers=st.integers(1, 4),
    processes=st.booleans(),
    options=index_options,
)
def test_top_k_for_all_rows_equals_brute_force(
    seed: int,
    n: int,
    terms: int,
    density: float,
    integers: bool,
    k: int,
    block_size: int,
    workers: int,
    processes: bool,
    options: dict,
) -> None:
    matrix = random_matrix(seed, n, terms, density, integers)
    index = SimilarityIndex(matrix, **options)
    found = index.search_all(k=k, block_size=block_size, workers=workers, processes=processes)
    dense = matrix.toarray()
    truth = brute_force(dense, dense, {(i, i) for i in range(n)})
    assert_is_top_k(found.indices, found.scores, truth, k)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    density=st.floats(0.05, 0.9),
    k=st.integers(1, 8),
    options=index_options,
    data=st.data(),
)
def test_single_query_with_exclusions_and_candidates_equals_brute_force(
    seed: int, n: int, density: float, k: int, options: dict, data: st.DataObject
) -> None:
    matrix = random_matrix(seed, n + 1, 12, density, integers=seed % 2 == 0)
    items, query = matrix[:n], matrix[n].toarray()
    exclude = data.draw(st.lists(st.integers(0, n - 1), max_size=n))
    allowed = data.draw(st.none() | st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
    index = SimilarityIndex(items, **options)
    matches = index.search(query, k, exclude=exclude, allowed=allowed)
    banned = set(exclude) | (set(range(n)) - set(allowed) if allowed is not None else set())
    truth = brute_force(query, items.toarray(), {(0, i) for i in banned})
    indices = np.array([[m.index for m in matches] + [-1] * (k - len(matches))])
    scores = np.array([[m.score for m in matches] + [0.0] * (k - len(matches))])
    assert_is_top_k(indices, scores, truth, k)
    assert not banned & {m.index for m in matches}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    k=st.integers(1, 8),
    n_groups=st.integers(1, 5),
    use_allowed=st.booleans(),
    options=index_options,
)
def test_same_group_and_self_are_never_returned(
    seed: int, n: int, k: int, n_groups: int, use_allowed: bool, options: dict
) -> None:
    rng = np.random.default_rng(seed)
    matrix = random_matrix(seed, n, 10, 0.4, integers=True)
    groups = rng.integers(-1, n_groups, n)  # -1: no institution, never excluded
    allowed = np.flatnonzero(rng.random(n) < 0.6) if use_allowed else None
    index = SimilarityIndex(matrix, **options)
    found = index.search_all(k=k, query_groups=groups, item_groups=groups, allowed=allowed, block_size=7)
    same_group = (groups[:, None] == groups[None, :]) & (groups[:, None] >= 0)
    banned = {(q, i) for q, i in zip(*np.nonzero(same_group | np.eye(n, dtype=bool)), strict=True)}
    if allowed is not None:
        banned |= {(q, i) for q in range(n) for i in set(range(n)) - set(allowed.tolist())}
    truth = brute_force(matrix.toarray(), matrix.toarray(), banned)
    assert_is_top_k(found.indices, found.scores, truth, k)
    for q in range(n):
        assert not {(q, i) for i in found.indices[q] if i >= 0} & banned


def test_people_against_project_calls_in_one_space() -> None:
    people = [
        Document(skills=["Rust", "Compilers"], texts=[("I write compilers", 1.0)]),
        Document(skills=["Ecology"], texts=[("field work on birds", 1.0)]),
    ]
    calls = [
        Document(skills=["Ecology", "Statistics"], texts=[("bird migration study", 1.0)]),
        Document(skills=["Rust"], texts=[("a compiler for robots", 1.0)]),
        Document(skills=["Rust"], texts=[("closed call", 1.0)]),
    ]
    space = build_features([*people, *calls])
    calls_index = SimilarityIndex(space.matrix[2:], vocabulary=space.vocabulary, is_skill=space.is_skill)
    found = calls_index.search_all(space.matrix[:2], k=3, allowed=[0, 1])  # call 2 is closed
    assert found.row(0)[0][0] == 1 and found.row(1)[0][0] == 0
    assert 2 not in found.indices


# --- float32 tail scores, exact answers -------------------------------------------------------


def careful_cosines(queries: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Every cosine, each dot product summed exactly (math.fsum): equal rows get equal scores,
    which a BLAS product does not promise."""
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    items = items / np.linalg.norm(items, axis=1, keepdims=True)
    return np.array([[math.fsum(q * x) for x in items] for q in queries])


def test_tail_scores_are_float32_only_when_their_rounding_is_bounded() -> None:
    matrix = random_matrix(1, 60, 12, 0.5, integers=False)
    assert SimilarityIndex(matrix)._kernel.dtype == np.float32
    signed = matrix.copy()
    signed.data[::3] *= -1  # negative entries: no relative bound, float64
    assert SimilarityIndex(signed)._kernel.dtype == np.float64
    tiny = matrix.copy()
    tiny.data[0] = 1e-35  # products could leave float32's normal range: float64
    assert SimilarityIndex(tiny)._kernel.dtype == np.float64


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 150),
    terms=st.integers(1, 400),
    density=st.floats(0.02, 0.9),
    options=index_options,
)
def test_float32_tail_scores_are_within_the_rounding_bound(
    seed: int, n: int, terms: int, density: float, options: dict
) -> None:
    index = SimilarityIndex(random_matrix(seed, n, terms, density, integers=False), **options)
    kernel = index._kernel
    assert kernel.dtype == np.float32
    tail, _ = kernel._tail_scores(index.items, kernel.workspace(n).scores)
    spread = kernel._rounding(index.items)
    is_tail = ~kernel.is_head
    exact = (index.items[:, is_tail] @ index.items[kernel.order][:, is_tail].T).toarray()
    error = np.abs(tail[:, :n].astype(np.float64) - exact)
    assert np.all(error <= spread[:, None] * exact * (1 + 1e-9))


@pytest.mark.parametrize("options", [{}, {"head_df_fraction": 0.5, "head_min_df": 0, "chunk": 4}])
@pytest.mark.parametrize("k", [1, 2, 3, 5, 12])
def test_scores_closer_than_float32_can_tell_are_ranked_exactly(options: dict, k: int) -> None:
    # Every item has the same 6 common terms and some of 10 rarer ones; values differ by
    # multiples of 1e-9, so scores differ by ~1e-10: far below float32's resolution (~6e-8),
    # far above float64's (~1e-16). Exact copies of the best item tie it: smaller index first.
    rng = np.random.default_rng(7)
    n = 300
    common = np.tile(rng.random(6) + 0.5, (n, 1)) + rng.integers(0, 40, (n, 6)) * 1e-9
    rare = (rng.random((n, 10)) < 0.4) * (0.5 + rng.integers(0, 40, (n, 10)) * 1e-9)
    items = np.hstack([common, rare])
    queries = items[:20] + rng.integers(0, 3, (20, 16)) * 1e-9
    best = np.argmax(careful_cosines(queries[:1], items)[0])
    items[[10, 200, 299]] = items[best]  # the first query's top score, four times over
    index = SimilarityIndex(sp.csr_matrix(items), **options)
    found = index.search_all(sp.csr_matrix(queries), k=k, workers=1)
    # Within 1e-14 of the truth: float32's errors would be 1e-7, and the items 1e-10 apart (those
    # closer by accident may come in either order)
    assert_is_top_k(found.indices, found.scores, careful_cosines(queries, items), k, tolerance=1e-14)
    assert found.indices[0, : min(k, 4)].tolist() == sorted({int(best), 10, 200, 299})[: min(k, 4)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 100),
    density=st.floats(0.05, 0.9),
    k=st.integers(1, 8),
    negative_items=st.booleans(),
    options=index_options,
)
def test_negative_entries_are_scored_exactly(
    seed: int, n: int, density: float, k: int, negative_items: bool, options: dict
) -> None:
    rng = np.random.default_rng(seed)
    items = random_matrix(seed, n, 12, density, integers=seed % 2 == 0)
    queries = random_matrix(seed + 1, 6, 12, density, integers=False)
    queries.data *= rng.choice([-1.0, 1.0], queries.nnz)
    if negative_items:
        items.data *= rng.choice([-1.0, 1.0], items.nnz)
    index = SimilarityIndex(items, **options)
    found = index.search_all(queries, k=k, workers=1)
    truth = brute_force(queries.toarray(), items.toarray(), set())
    assert_is_top_k(found.indices, found.scores, truth, k)


def test_weights_float32_cannot_bound_are_scored_in_float64() -> None:
    rng = np.random.default_rng(11)
    items = random_matrix(11, 200, 30, 0.2, integers=False)
    index = SimilarityIndex(items, head_df_fraction=0.3, head_min_df=0, chunk=8)
    assert index._kernel.dtype == np.float32
    queries = random_matrix(12, 8, 30, 0.3, integers=False).toarray()
    queries[0, :] = 0.0
    queries[0, rng.choice(30, 5, replace=False)] = [1.0, 1e-36, 1e-36, 1e-37, 1e-38]  # would underflow
    queries[1, 3] = -0.5  # a negative weight
    queries[2, :] = 0.0  # nothing at all
    found = index.search_all(sp.csr_matrix(queries), k=6, workers=1)
    spread = index._kernel._rounding(l2_normalize_rows(sp.csr_matrix(queries)))
    assert np.isinf(spread[:2]).all() and np.isfinite(spread[2:]).all()
    assert_is_top_k(found.indices, found.scores, brute_force(queries, items.toarray(), set()), 6)


def test_without_scipys_private_kernels_the_answer_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = random_matrix(3, 300, 40, 0.15, integers=True)
    index = SimilarityIndex(matrix, head_df_fraction=0.05, head_min_df=0, chunk=8)
    expected = index.search_all(k=6, workers=1)
    monkeypatch.setattr(_topk, "_csc_matvec", None)
    monkeypatch.setattr(_topk, "_csr_row_index", None)
    found = index.search_all(k=6, workers=1)
    assert np.array_equal(found.indices, expected.indices)
    assert np.array_equal(found.scores, expected.scores)
    dense = matrix.toarray()
    assert_is_top_k(found.indices, found.scores, brute_force(dense, dense, {(i, i) for i in range(300)}), 6)


# --- workers --------------------------------------------------------------------------------


def test_processes_threads_and_one_worker_give_the_same_answer() -> None:
    index = SimilarityIndex(random_matrix(4, 400, 40, 0.15, integers=True), chunk=8)
    one = index.search_all(k=7, workers=1, block_size=16)
    for processes in (True, False):
        found = index.search_all(k=7, workers=3, block_size=16, processes=processes)
        assert np.array_equal(found.indices, one.indices)
        assert np.array_equal(found.scores, one.scores)


@pytest.mark.skipif(not can_fork(), reason="forked workers need Linux")
def test_a_failed_or_killed_search_process_fails_the_search() -> None:
    parent = os.getpid()

    def fails(take):
        while take() < 10:
            pass
        if os.getpid() != parent:
            raise ValueError("no luck in the child")
        return []

    with pytest.raises(RuntimeError, match="no luck in the child"):
        _in_processes(fails, 2)

    def dies(take):
        if os.getpid() != parent:
            os._exit(3)
        return []

    with pytest.raises(RuntimeError, match="exit code 3"):
        _in_processes(dies, 2)


# --- explanations -------------------------------------------------------------------------


def explained_space() -> tuple[SimilarityIndex, sp.csr_matrix]:
    documents = [
        Document(
            skills=["Machine Learning", "Python", "Cooking"],
            texts=[("protein folding with transformers", 1.0)],
        ),
        Document(
            skills=["#MachineLearning", "Python", "Rust"], texts=[("transformers for protein design", 1.0)]
        ),
        Document(skills=["Cooking"], texts=[("pasta", 1.0)]),
        Document(skills=["Gardening"], texts=[("tomatoes", 1.0)]),
    ]
    space = build_features(documents)
    return SimilarityIndex(space.matrix, vocabulary=space.vocabulary, is_skill=space.is_skill), space.matrix


def test_explanations_name_the_shared_skills_first_then_shared_words() -> None:
    index, matrix = explained_space()
    best = index.search(matrix[0], k=3, exclude=[0])
    assert [match.index for match in best] == [1, 2]
    shared = best[0].shared
    assert [term.term for term in shared if term.is_skill] == sorted(
        ["machine learning", "python"], key=lambda t: -next(s.contribution for s in shared if s.term == t)
    )
    assert {term.term for term in shared if not term.is_skill} == {"protein", "transformers"}
    assert [term.is_skill for term in shared] == [True, True, False, False]
    assert "cooking" not in {term.term for term in shared}
    assert sum(term.contribution for term in shared) == pytest.approx(best[0].score)
    assert best[0].describe().startswith("shared skills: ")
    assert best[1].describe() == "shared skills: cooking"


def test_explanation_limit_and_no_vocabulary() -> None:
    index, matrix = explained_space()
    assert len(index.explain(matrix[0], 1, limit=1)) == 2  # one skill, one word
    bare = SimilarityIndex(matrix)
    assert all(match.shared == () for match in bare.search(matrix[0], k=2))


def test_team_search_uses_the_mean_of_unit_member_vectors() -> None:
    index, matrix = explained_space()
    centroid = team_vector(matrix[[0, 2]] * 5.0)  # scaling a member changes nothing
    manual = (matrix[0].toarray() + matrix[2].toarray()) / 2
    assert np.allclose(centroid.toarray(), manual)
    matches = index.search_team(matrix[[0, 2]], k=4, exclude=[0, 2])
    assert [m.index for m in matches] == [1]
    assert matches[0].score == pytest.approx(cosine(manual, matrix[1]))


def test_query_must_live_in_the_same_space() -> None:
    index, _ = explained_space()
    with pytest.raises(ValueError):
        index.search(np.ones(3))
