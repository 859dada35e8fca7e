"""Embeddings as arrays: int8 storage and its error, exact top-k, the hybrid score."""

from __future__ import annotations

import numpy as np
import pytest

from talentfed.analytics.embeddings import (
    ClusteredIndex,
    EmbeddingIndex,
    Weights,
    from_bytes,
    hybrid,
    quantisation_error,
    quantise,
    to_bytes,
    top_k,
    unit_rows,
)


def _random_unit(n: int, d: int, seed: int = 7) -> np.ndarray:
    return unit_rows(np.random.default_rng(seed).standard_normal((n, d)))


def test_int8_storage_keeps_cosines_within_a_hundredth() -> None:
    vectors = _random_unit(200, 384)
    error = quantisation_error(vectors)
    assert 0 < error < 0.01  # lossy, but far below the gaps a ranking depends on
    restored = quantise(vectors).restore()
    assert restored.dtype == np.float32 and restored.shape == vectors.shape


def test_one_vector_round_trips_through_bytes() -> None:
    vector = _random_unit(1, 512)[0]
    codes, scale = to_bytes(vector)
    assert len(codes) == 512  # a quarter of float32
    back = from_bytes(codes, scale)
    assert float(back @ vector / np.linalg.norm(back)) > 0.999
    zeros_codes, zeros_scale = to_bytes(np.zeros(4))
    assert zeros_scale == 0 and not from_bytes(zeros_codes, zeros_scale).any()


def test_exact_top_k_is_brute_force() -> None:
    items = _random_unit(500, 32)
    query = _random_unit(1, 32, seed=3)[0]
    found = EmbeddingIndex(items).search(query, k=10)
    brute = sorted(range(500), key=lambda i: -float(items[i] @ query))[:10]
    assert [i for i, _ in found] == brute
    assert found[0][1] == pytest.approx(float(items[brute[0]] @ query), abs=1e-5)


def test_top_k_orders_ties_by_index_and_copes_with_small_k() -> None:
    assert top_k(np.array([0.5, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 0]
    assert top_k(np.array([0.1]), 5).tolist() == [0]
    assert top_k(np.array([0.1, 0.2]), 0).tolist() == []


def test_hybrid_is_the_weighted_mean_and_names_the_leading_signal() -> None:
    signals = {
        "tfidf": np.array([0.8, 0.0, 0.1]),
        "embedding": np.array([0.2, 0.9, -0.5]),  # a negative cosine counts as 0
        "skills": np.array([0.5, 0.0, 0.0]),
    }
    weights = Weights(tfidf=2, embedding=1, skills=1, graph=0)
    scored = hybrid(signals, weights)
    assert scored.scores.tolist() == pytest.approx([(1.6 + 0.2 + 0.5) / 4, 0.9 / 4, 0.2 / 4])
    assert [scored.leader(i) for i in range(3)] == ["tfidf", "embedding", "tfidf"]


def test_hybrid_without_a_signal_keeps_the_others_proportions() -> None:
    weights = Weights().without({"embedding"})
    assert weights.embedding == 0 and weights.tfidf == Weights().tfidf
    only_tfidf = hybrid({"tfidf": np.array([0.4, 0.2])}, weights)
    share = Weights().tfidf / (Weights().tfidf + Weights().skills + Weights().graph)
    assert only_tfidf.scores.tolist() == pytest.approx([0.4 * share, 0.2 * share])


def test_hybrid_refuses_signals_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        hybrid({"tfidf": np.zeros(2), "skills": np.zeros(3)}, Weights())


def test_clustered_search_finds_what_exact_search_finds_on_clustered_data() -> None:
    rng = np.random.default_rng(11)
    centres = _random_unit(40, 64, seed=5)
    items = unit_rows(centres[rng.integers(0, 40, 4000)] + 0.15 * rng.standard_normal((4000, 64)))
    exact, approximate = EmbeddingIndex(items), ClusteredIndex(items, lists=40, probes=6)
    hits = 0
    for query in items[:50]:
        truth = {i for i, _ in exact.search(query, 10)}
        found = approximate.search(query, 10)
        hits += len(truth & {i for i, _ in found})
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert hits / 500 >= 0.95  # recall@10 against exact search
    every_list = ClusteredIndex(items, lists=8, probes=8)  # probing every list is exact
    assert [i for i, _ in every_list.search(items[0], 10)] == [i for i, _ in exact.search(items[0], 10)]
