"""PageRank on the directed follow graph, edges weighted by interactions.

A follow u → v passes a share of u's rank to v, in proportion to the edge's weight (e.g. 1 for
the follow plus the replies, likes, announces and mentions from u to v): someone a person
actually talks to gets more of their attention than someone they merely follow. The iteration,
with damping α, over the m member vertices (all n, or a subset):

    x ← α · (Pᵀ x + (mass on dangling vertices) / m) + (1 − α) / m

where P[u, v] = w(u, v) / Σ_v' w(u, v'). A dangling vertex (no outgoing weight) spreads its rank
evenly over all members, as if it followed everyone; so x stays a probability vector.
It stops when the L1 change of x falls below n_members · tol, or after max_iter iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from talentfed.analytics.influence import member_mask

DAMPING = 0.85


@dataclass(frozen=True)
class PageRankResult:
    """Scores (sum 1 over the members, 0 outside), and how the iteration ended."""

    scores: NDArray[np.float64]
    iterations: int
    converged: bool


def pagerank(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    *,
    weights: np.ndarray | None = None,
    damping: float = DAMPING,
    tol: float = 1e-10,
    max_iter: int = 200,
    subset: np.ndarray | None = None,
) -> PageRankResult:
    """PageRank of vertices 0..n-1 for the edges src[i] → dst[i] (weight 1 each unless given).

    Repeated edges add up their weights; self-loops and zero weights are ignored. With `subset`
    (boolean mask or vertex ids), PageRank of the induced sub-graph: only edges between members,
    teleport and dangling mass spread over members only; non-members score 0.
    """
    if not 0 < damping < 1:
        raise ValueError("damping must be between 0 and 1")
    members = np.ones(n, dtype=bool) if subset is None else member_mask(subset, n)
    transition = transition_matrix(src, dst, n, weights=weights, members=members)
    return _iterate(transition, members, damping, tol, max_iter)


def transition_matrix(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    *,
    weights: np.ndarray | None = None,
    members: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Pᵀ as CSR (row v, column u: the share of u's rank that goes to v); dangling columns empty."""
    src = np.asarray(src, dtype=np.int64).ravel()
    dst = np.asarray(dst, dtype=np.int64).ravel()
    weights = np.ones(src.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if not src.size == dst.size == weights.size:
        raise ValueError("src, dst and weights differ in length")
    if weights.size and weights.min() < 0:
        raise ValueError("edge weights must not be negative")
    if src.size and max(src.max(), dst.max()) >= n:
        raise ValueError(f"vertex ids must be below n = {n}")
    keep = (src != dst) & (weights > 0)
    if members is not None:
        keep &= members[src] & members[dst]
    src, dst, weights = src[keep], dst[keep], weights[keep]
    out_weight = np.bincount(src, weights=weights, minlength=n)
    return sp.csr_matrix((weights / out_weight[src], (dst, src)), shape=(n, n))


def _iterate(
    transition: sp.csr_matrix, members: NDArray[np.bool_], damping: float, tol: float, max_iter: int
) -> PageRankResult:
    n_members = int(members.sum())
    if n_members == 0:
        return PageRankResult(np.zeros(members.size), 0, True)
    uniform = members / n_members
    dangling = members & (np.bincount(transition.indices, minlength=members.size) == 0)
    scores = uniform.copy()
    for iteration in range(1, max_iter + 1):
        spread = damping * scores[dangling].sum() + (1.0 - damping)
        updated = damping * (transition @ scores) + spread * uniform
        change = np.abs(updated - scores).sum()
        scores = updated
        if change < n_members * tol:
            return PageRankResult(scores, iteration, True)
    return PageRankResult(scores, max_iter, False)
