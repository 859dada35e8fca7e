"""Cosine similarity: the exact formula, exact top-k (against brute force), exclusions, explanations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from talentfed.analytics.features import Document, build_features
from talentfed.analytics.similarity import SimilarityIndex, cosine, team_vector


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


def assert_is_top_k(indices: np.ndarray, scores: np.ndarray, truth: np.ndarray, k: int) -> None:
    """Each row: true scores returned, best first, nothing better left out (ties may go either way)."""
    for q in range(truth.shape[0]):
        found = indices[q][indices[q] >= 0]
        expected = min(k, int(np.isfinite(truth[q]).sum()))
        assert found.size == expected
        assert len(set(found.tolist())) == found.size
        assert np.allclose(scores[q][: found.size], truth[q][found], atol=1e-12)
        assert np.all(np.diff(scores[q][: found.size]) <= 1e-12)
        if found.size:
            left_out = np.setdiff1d(np.flatnonzero(np.isfinite(truth[q])), found)
            assert np.all(truth[q][left_out] <= scores[q][found.size - 1] + 1e-12)


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
    options: dict,
) -> None:
    matrix = random_matrix(seed, n, terms, density, integers)
    index = SimilarityIndex(matrix, **options)
    found = index.search_all(k=k, block_size=block_size, workers=workers)
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
