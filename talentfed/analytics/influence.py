"""Influence over the undirected follow graph: `I(u) = (1/|N(u)|) · Σ_{v∈N(u)} 1/√|N(v)|`.

N(u) is everyone who follows u or whom u follows, counted once, never u itself; I(u) = 0 when
N(u) is empty. In matrix form, with A the 0/1 symmetric adjacency and d its row sums (the
degrees): I = (A · d^(-1/2)) / d. The measure rewards being connected to people who are not
themselves connected to everyone: a follower who follows a thousand accounts adds little.

Vertices are integers 0..n-1 (the caller maps actors to them). Everything here works on whole
arrays: no Python loop over vertices or edges.

`InfluenceGraph` keeps the graph between runs and updates I when new edges arrive. An edge
{a, b} changes the degrees of a and b only; I(u) depends on u's neighbourhood and on its
neighbours' degrees, so the vertices whose I can change are a, b and their neighbours, and only
those are touched. It keeps S = A · d^(-1/2) (each vertex's sum over its neighbours) and updates
it by differences: when d(v) changes, every neighbour's sum moves by the change in d(v)^(-1/2);
a new edge adds each end's new weight to the other's sum. The cost is the degrees of the vertices
whose degree changed, not the size of the graph. New edges are kept in a small sorted side list
next to the compact adjacency; once that list has grown to a fraction of the graph, both are
merged and S is recomputed from scratch (O(edges), paid for by the many cheap updates before it,
and it also clears the rounding the differences accumulate, about 1e-16 per update).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from talentfed.analytics._topk import ragged_ranges

_KEY_SHIFT = np.int64(32)  # edge key = low << 32 | high; vertex ids must stay below 2**31


def undirected_edges(src: np.ndarray, dst: np.ndarray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each undirected edge once, as (low, high) with low < high, sorted; self-loops dropped.

    a→b and b→a (a mutual follow), or the same follow seen twice, become one edge.
    """
    src, dst = _as_ids(src), _as_ids(dst)
    if src.shape != dst.shape:
        raise ValueError("src and dst differ in length")
    n = int(max(np.max(src, initial=-1), np.max(dst, initial=-1))) + 1
    if 4 * src.size < n:  # a few edges among many vertices (an update): sort their keys
        keys = sorted_unique(_keys(np.minimum(src, dst), np.maximum(src, dst))[src != dst])
        return keys >> _KEY_SHIFT, keys & np.int64(0xFFFFFFFF)
    return edge_list(upper_adjacency(src, dst, n))


def upper_adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """The undirected graph as an upper-triangular boolean CSR matrix: entry (low, high) per edge.

    scipy's conversion to CSR sorts by row with a counting sort and merges repeated entries
    (a mutual follow, a follow seen twice) row by row, all in C: cheaper than sorting 64-bit edge
    keys, which is what deduplicating an edge list otherwise takes.
    """
    src, dst = _as_ids(src), _as_ids(dst)
    if src.shape != dst.shape:
        raise ValueError("src and dst differ in length")
    if src.size and max(src.max(), dst.max()) >= n:
        raise ValueError(f"vertex id {int(max(src.max(), dst.max()))} is not below n = {n}")
    distinct = src != dst
    low = np.minimum(src, dst)[distinct].astype(np.int32)  # ids < 2**31; halves what is sorted
    high = np.maximum(src, dst)[distinct].astype(np.int32)
    # Boolean entries: merging repeated ones is a logical or, so every entry stays exactly True.
    return sp.csr_matrix((np.ones(low.size, dtype=bool), (low, high)), shape=(n, n))


def edge_list(upper: sp.csr_matrix) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(low, high) arrays of an upper adjacency, sorted."""
    low = np.repeat(np.arange(upper.shape[0], dtype=np.int64), np.diff(upper.indptr))
    return low, upper.indices.astype(np.int64)


def sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """np.unique for integer arrays, by sort and neighbour comparison (np.unique is far slower on
    large integer arrays in numpy 2.4)."""
    values = np.sort(values)
    if values.size == 0:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _as_ids(ids: np.ndarray) -> NDArray[np.int64]:
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= 2**31):
        raise ValueError("vertex ids must be in 0 .. 2**31 - 1")
    return ids


def _keys(low: NDArray[np.int64], high: NDArray[np.int64]) -> NDArray[np.int64]:
    return (low << _KEY_SHIFT) | high


def adjacency(low: np.ndarray, high: np.ndarray, n: int) -> sp.csr_matrix:
    """The symmetric 0/1 adjacency (n × n CSR, sorted rows) of edges from `undirected_edges`."""
    # Rows get their smaller neighbours (from `high` rows) before their larger ones, each run
    # already in order because the edges are sorted; CSR conversion is a stable counting sort by
    # row, so the matrix comes out canonical (sorted, no duplicates) with no per-row sort.
    rows = np.concatenate([high, low])
    columns = np.concatenate([low, high])
    return sp.csr_matrix((np.ones(rows.size), (rows, columns)), shape=(n, n))


def influence_from_adjacency(matrix: sp.csr_matrix) -> NDArray[np.float64]:
    """I = (A · d^(-1/2)) / d, with I = 0 where d = 0."""
    degree = np.diff(matrix.indptr)
    return _divide(matrix @ _inverse_root(degree), degree)


def influence_from_edges(low: NDArray[np.int64], high: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """The same I straight from the (low, high) edge list, without building the matrix."""
    degree, sums = neighbour_sums(low, high, n)
    return _divide(sums, degree)


def influence_from_upper(upper: sp.csr_matrix) -> NDArray[np.float64]:
    """I from an upper adjacency U (A = U + Uᵀ): d = row counts + column counts, A·w = U·w + Uᵀ·w."""
    degree = np.diff(upper.indptr) + np.bincount(upper.indices, minlength=upper.shape[0])
    weight = _inverse_root(degree)
    return _divide(upper @ weight + upper.T @ weight, degree)


def neighbour_sums(
    low: NDArray[np.int64], high: NDArray[np.int64], n: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Degrees d and S = A · d^(-1/2), from the edge list.

    A · w is, row by row, the sum of w over the neighbours: each edge adds w[high] to low's sum
    and w[low] to high's, which two weighted bincounts do in one pass each.
    """
    degree = np.bincount(low, minlength=n) + np.bincount(high, minlength=n)
    weight = _inverse_root(degree)
    sums = weighted_counts(low, weight[high], n) + weighted_counts(high, weight[low], n)
    return degree, sums


def weighted_counts(
    index: NDArray[np.integer], weights: NDArray[np.float64], length: int
) -> NDArray[np.float64]:
    """np.bincount with weights, always float64 (bincount returns integers when empty)."""
    return np.bincount(index, weights=weights, minlength=length).astype(np.float64, copy=False)


def _inverse_root(degree: NDArray[np.number]) -> NDArray[np.float64]:
    as_float = np.asarray(degree, dtype=np.float64)
    return np.divide(1.0, np.sqrt(as_float), out=np.zeros_like(as_float), where=as_float > 0)


def _divide(sums: NDArray[np.float64], degree: NDArray[np.number]) -> NDArray[np.float64]:
    as_float = np.asarray(degree, dtype=np.float64)
    return np.divide(sums, as_float, out=np.zeros_like(as_float), where=as_float > 0)


def _contains(sorted_values: NDArray[np.int64], values: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each value is in the sorted array."""
    if sorted_values.size == 0:
        return np.zeros(values.shape, dtype=bool)
    position = np.minimum(np.searchsorted(sorted_values, values), sorted_values.size - 1)
    return np.equal(sorted_values[position], values)


def influence(
    src: np.ndarray, dst: np.ndarray, n: int, *, subset: np.ndarray | None = None
) -> NDArray[np.float64]:
    """I(u) for every vertex 0..n-1 of the graph of follows src[i] → dst[i].

    With `subset` (a boolean mask of length n, or vertex ids), the same measure on the induced
    sub-graph, e.g. the actors who carry a skill: only edges between two members count, for
    neighbourhoods and for degrees alike. Vertices outside the subset get 0; rank members only.
    """
    upper = upper_adjacency(src, dst, n)
    if subset is None:
        return influence_from_upper(upper)
    low, high = induced(*edge_list(upper), member_mask(subset, n))
    return influence_from_edges(low, high, n)


def member_mask(subset: np.ndarray, n: int) -> NDArray[np.bool_]:
    """A boolean mask of length n from a mask or from vertex ids."""
    subset = np.asarray(subset)
    if subset.dtype == bool:
        if subset.shape != (n,):
            raise ValueError(f"subset mask must have length {n}")
        return subset
    mask = np.zeros(n, dtype=bool)
    mask[subset.astype(np.int64)] = True
    return mask


def induced(low: np.ndarray, high: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the edges with both ends in the subset."""
    keep = mask[low] & mask[high]
    return low[keep], high[keep]


class InfluenceGraph:
    """The undirected graph and its I, kept up to date as edges arrive (see the module docstring).

    >>> graph = InfluenceGraph(src, dst, n)      # full computation once
    >>> changed = graph.add_edges(new_src, new_dst)  # recomputes graph.influence[changed] only
    """

    def __init__(self, src: np.ndarray, dst: np.ndarray, n: int, *, compact_fraction: float = 0.25) -> None:
        low, high = edge_list(upper_adjacency(src, dst, n))
        self.n = n
        self.compact_fraction = compact_fraction
        self._rebuild(low, high)

    def _rebuild(self, low: np.ndarray, high: np.ndarray) -> None:
        """Everything from scratch: compact adjacency, empty side list, exact degrees and sums."""
        self._base = adjacency(low, high, self.n)
        self._base_edges = low.size
        self._extra_keys = np.zeros(0, dtype=np.int64)  # sorted keys of edges not in the base
        self.degree, self._sums = neighbour_sums(low, high, self.n)
        self.influence = _divide(self._sums, self.degree)

    @property
    def n_edges(self) -> int:
        return self._base_edges + self._extra_keys.size

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """All undirected edges (low, high), sorted: what a full recompute would start from."""
        upper = sp.triu(self._base, k=1).tocoo()
        low = np.concatenate([upper.row, self._extra_keys >> _KEY_SHIFT])
        high = np.concatenate([upper.col, self._extra_keys & np.int64(0xFFFFFFFF)])
        return edge_list(upper_adjacency(low, high, self.n))

    def add_edges(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Add follows (new vertex ids grow the graph); returns the vertices whose I was updated.

        Edges already known change nothing. Only the new edges' ends and their neighbours are
        updated; see the module docstring.
        """
        low, high = undirected_edges(src, dst)
        largest = max(int(np.max(src, initial=-1)), int(np.max(dst, initial=-1)))
        if largest >= self.n:
            self._grow(largest + 1)
        fresh = ~(self._in_base(low, high) | _contains(self._extra_keys, _keys(low, high)))
        low, high = low[fresh], high[fresh]
        if low.size == 0:
            return np.zeros(0, dtype=np.int64)
        changed = sorted_unique(np.concatenate([low, high]))
        owner, neighbour = self._neighbours(changed)  # before the new edges are in
        affected = sorted_unique(np.concatenate([changed, neighbour]))
        old_weight = _inverse_root(self.degree[changed])
        np.add.at(self.degree, low, 1)
        np.add.at(self.degree, high, 1)
        new_weight = _inverse_root(self.degree[changed])
        self._add_to_sums(affected, neighbour, (new_weight - old_weight)[owner])
        self._add_to_sums(affected, low, new_weight[np.searchsorted(changed, high)])
        self._add_to_sums(affected, high, new_weight[np.searchsorted(changed, low)])
        self.influence[affected] = _divide(self._sums[affected], self.degree[affected])
        self._extra_keys = sorted_unique(np.concatenate([self._extra_keys, _keys(low, high)]))
        if self._extra_keys.size > self.compact_fraction * max(self._base_edges, 1):
            self._rebuild(*self.edges())
        return affected

    def _add_to_sums(self, affected: np.ndarray, vertices: np.ndarray, amounts: np.ndarray) -> None:
        """S[v] += amount for each (v, amount); every v is in the sorted array `affected`."""
        position = np.searchsorted(affected, vertices)
        self._sums[affected] += weighted_counts(position, amounts, affected.size)

    def _grow(self, n: int) -> None:
        """Room for vertices n_old..n-1 (no edges yet): pad the arrays, rebuild nothing."""
        extra = n - self.n
        indptr = np.concatenate([self._base.indptr, np.full(extra, self._base.indptr[-1])])
        self._base = sp.csr_matrix((self._base.data, self._base.indices, indptr), shape=(n, n))
        self.degree = np.concatenate([self.degree, np.zeros(extra, dtype=self.degree.dtype)])
        self._sums = np.concatenate([self._sums, np.zeros(extra)])
        self.influence = np.concatenate([self.influence, np.zeros(extra)])
        self.n = n

    def _in_base(self, low: NDArray[np.int64], high: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each edge is in the compact adjacency: a binary search per edge, all at once."""
        indptr, indices = self._base.indptr, self._base.indices
        start, stop = indptr[low].copy(), indptr[low + 1].copy()
        while (open_ := start < stop).any():
            middle = (start + stop) // 2
            below = open_ & (indices[np.minimum(middle, indices.size - 1)] < high)
            start = np.where(below, middle + 1, start)
            stop = np.where(open_ & ~below, middle, stop)
        found = start < indptr[low + 1]
        found[found] = indices[start[found]] == high[found]
        return found

    def _neighbours(self, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in `vertices`, neighbour) for every neighbour of the sorted unique `vertices`."""
        starts = self._base.indptr[vertices]
        counts = self._base.indptr[vertices + 1] - starts
        owner = [np.repeat(np.arange(vertices.size), counts)]
        neighbour = [self._base.indices[ragged_ranges(starts, counts)].astype(np.int64)]
        low, high = self._extra_keys >> _KEY_SHIFT, self._extra_keys & np.int64(0xFFFFFFFF)
        for this, other in ((low, high), (high, low)):
            hit = _contains(vertices, this)
            owner.append(np.searchsorted(vertices, this[hit]))
            neighbour.append(other[hit])
        return np.concatenate(owner), np.concatenate(neighbour)
