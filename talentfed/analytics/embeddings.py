"""Sentence embeddings as arrays: quantised storage, exact cosine top-k, and the hybrid score.

Pure numpy, like the rest of analytics/: no database, no network, no model. The model that
turns text into vectors is `analytics/embedders.py`; what is embedded, and when, is
`domain/embeddings.py`.

Storage is int8 with one float32 scale per vector (symmetric: `code = round(x / scale)`,
`scale = max|x| / 127`). For unit vectors of a few hundred dimensions this changes a cosine by
about 1e-3 (`quantisation_error` measures it; docs/benchmarks.md has the figure), far below the
gaps between neighbours that a ranking depends on, at a quarter of float32's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

INT8_LIMIT = 127

Floats = NDArray[np.float32]


@dataclass(frozen=True)
class Quantised:
    """Vectors as int8 codes (n, d) and one scale each (n,)."""

    codes: NDArray[np.int8]
    scales: Floats

    def restore(self) -> Floats:
        return (self.codes.astype(np.float32) * self.scales[:, None]).astype(np.float32)


def quantise(vectors: NDArray[np.floating]) -> Quantised:
    """Symmetric per-vector int8 quantisation; an all-zero vector keeps scale 0."""
    matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    peaks = np.abs(matrix).max(axis=1) if matrix.size else np.zeros(matrix.shape[0], np.float32)
    scales = (peaks / INT8_LIMIT).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.rint(matrix / safe[:, None]), -INT8_LIMIT, INT8_LIMIT).astype(np.int8)
    return Quantised(codes, scales)


def to_bytes(vector: NDArray[np.floating]) -> tuple[bytes, float]:
    """One vector as stored: its int8 codes and its scale."""
    one = quantise(vector)
    return one.codes[0].tobytes(), float(one.scales[0])


def from_bytes(codes: bytes, scale: float) -> Floats:
    return (np.frombuffer(codes, dtype=np.int8).astype(np.float32) * np.float32(scale)).astype(np.float32)


def unit_rows(matrix: NDArray[np.floating]) -> Floats:
    """Rows scaled to unit length (all-zero rows stay zero: similar to nothing)."""
    rows = np.atleast_2d(np.asarray(matrix, dtype=np.float32))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def quantisation_error(vectors: NDArray[np.floating]) -> float:
    """The largest change int8 storage makes to a cosine between two of these vectors."""
    exact = unit_rows(vectors)
    restored = unit_rows(quantise(exact).restore())
    return float(np.abs(exact @ exact.T - restored @ restored.T).max()) if len(exact) else 0.0


def top_k(scores: NDArray[np.floating], k: int) -> NDArray[np.int64]:
    """Indices of the k largest scores, best first (ties: the lower index first)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))].astype(np.int64)


class EmbeddingIndex:
    """Unit vectors searchable by cosine: one matrix-vector product, then a partial sort.

    Exact: the same top-k as comparing every pair. Rows that have no embedding are zero and
    score 0 against every query.
    """

    def __init__(self, vectors: NDArray[np.floating]) -> None:
        self.vectors = unit_rows(vectors)

    @property
    def n_items(self) -> int:
        return int(self.vectors.shape[0])

    def scores(self, query: NDArray[np.floating]) -> Floats:
        """Cosine of the query with every item."""
        unit = unit_rows(query)[0]
        scores: Floats = (self.vectors @ unit).astype(np.float32)
        return scores

    def search(self, query: NDArray[np.floating], k: int = 10) -> list[tuple[int, float]]:
        scores = self.scores(query)
        return [(int(i), float(scores[i])) for i in top_k(scores, k)]


# --- the hybrid score ------------------------------------------------------------------------

COMPONENTS = ("tfidf", "embedding", "skills", "graph")


@dataclass(frozen=True)
class Weights:
    """How much each signal counts in the hybrid score (`[matching]` in the configuration)."""

    tfidf: float = 0.45
    embedding: float = 0.35
    skills: float = 0.15
    graph: float = 0.05

    def without(self, absent: set[str]) -> Weights:
        """The weights with some signals left out (e.g. no embeddings on a node without the
        model): the others keep their proportions."""
        values = {name: 0.0 if name in absent else getattr(self, name) for name in COMPONENTS}
        return Weights(**values)


@dataclass(frozen=True)
class Hybrid:
    """Each candidate's score and which signal contributed most to it."""

    scores: Floats
    leading: NDArray[np.int64]  # index into COMPONENTS, per candidate

    def leader(self, candidate: int) -> str:
        return COMPONENTS[int(self.leading[candidate])]


def hybrid(signals: Mapping[str, NDArray[np.floating]], weights: Weights) -> Hybrid:
    """score = Σ weight · signal over the signals given (each an array over the same candidates,
    in [0, 1]; a missing one counts as 0). Weights are divided by their sum so that scores stay
    comparable however the weights are set. Negative cosines count as 0: an opposite text is
    no reason to recommend, and no reason to push a shared skill down either."""
    lengths = {len(np.asarray(values)) for values in signals.values()}
    if len(lengths) > 1:
        raise ValueError(f"signals differ in length: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    total = sum(getattr(weights, name) for name in COMPONENTS)
    parts = np.zeros((len(COMPONENTS), n), dtype=np.float32)
    for row, name in enumerate(COMPONENTS):
        if name in signals and total > 0:
            values = np.clip(np.asarray(signals[name], dtype=np.float32), 0.0, 1.0)
            parts[row] = values * (getattr(weights, name) / total)
    return Hybrid(parts.sum(axis=0), parts.argmax(axis=0).astype(np.int64))


# --- approximate search over many items ------------------------------------------------------


class ClusteredIndex:
    """Approximate top-k by cosine for large sets: an inverted file over spherical k-means.

    Items are grouped by their nearest of `lists` centroids (k-means on unit vectors, trained
    on a sample); a query scores the centroids, then only the items of the `probes` nearest
    lists. Items are stored sorted by list, so each probed list is one contiguous slice and one
    matrix-vector product. Approximate: an item whose list is not probed is missed, so recall
    against `EmbeddingIndex` must be measured (bench/semantic.py) before `probes` is trusted.
    """

    def __init__(
        self,
        vectors: NDArray[np.floating],
        *,
        lists: int = 256,
        probes: int = 48,  # recall@10 0.96 over 100k real embeddings (docs/benchmarks.md)
        sample: int = 50_000,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        unit = unit_rows(vectors)
        lists = max(1, min(lists, unit.shape[0]))
        self.probes = probes
        self.centroids = _spherical_kmeans(unit, lists, sample, iterations, seed)
        assignment = _nearest(unit, self.centroids)
        self.order = np.argsort(assignment, kind="stable").astype(np.int64)  # sorted row → item
        self.vectors = unit[self.order]
        self.bounds = np.searchsorted(assignment[self.order], np.arange(lists + 1)).astype(np.int64)

    def search(self, query: NDArray[np.floating], k: int = 10) -> list[tuple[int, float]]:
        unit = unit_rows(query)[0]
        nearest = top_k(self.centroids @ unit, self.probes)
        rows = [np.arange(self.bounds[c], self.bounds[c + 1]) for c in nearest]
        scores = [self.vectors[self.bounds[c] : self.bounds[c + 1]] @ unit for c in nearest]
        candidates, candidate_scores = np.concatenate(rows), np.concatenate(scores)
        best = top_k(candidate_scores, k)
        return [(int(self.order[candidates[i]]), float(candidate_scores[i])) for i in best]


def _spherical_kmeans(unit: Floats, lists: int, sample: int, iterations: int, seed: int) -> Floats:
    """k-means on the unit sphere (cosine), from `lists` random items of a random sample."""
    rng = np.random.default_rng(seed)
    chosen = unit[rng.choice(unit.shape[0], min(sample, unit.shape[0]), replace=False)]
    centroids: Floats = chosen[rng.choice(chosen.shape[0], lists, replace=False)].copy()
    for _ in range(iterations):
        assignment = _nearest(chosen, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assignment, chosen)
        empty = ~sums.any(axis=1)  # a list nobody chose keeps its centroid
        sums[empty] = centroids[empty]
        centroids = unit_rows(sums)
    return centroids


def _nearest(unit: Floats, centroids: Floats, block: int = 8192) -> NDArray[np.int64]:
    """The nearest centroid of each row, in blocks (the full rows × lists matrix is large)."""
    return np.concatenate(
        [np.argmax(unit[start : start + block] @ centroids.T, axis=1) for start in range(0, len(unit), block)]
    ).astype(np.int64)
