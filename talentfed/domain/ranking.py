"""The ranking of visible people by influence or PageRank, over the whole observed graph or the
sub-graph of one skill. The measures themselves are computed in `analytics/influence.py` and
`analytics/pagerank.py`; this module only chooses the graph and orders people by them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from talentfed.analytics.features import skill_term
from talentfed.analytics.influence import influence
from talentfed.analytics.pagerank import pagerank
from talentfed.domain.observed_graph import Observed
from talentfed.text import normalize_skill


@dataclass(frozen=True)
class Ranked:
    uri: str
    handle: str
    name: str
    influence: float
    pagerank: float


def scores(observed: Observed, skill: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Influence and PageRank of every actor row, optionally on the sub-graph of a skill."""
    subset = None if skill is None else skill_members(observed, skill)
    weights_src = np.concatenate([observed.follow_src, observed.interaction_src])
    weights_dst = np.concatenate([observed.follow_dst, observed.interaction_dst])
    inf = influence(observed.follow_src, observed.follow_dst, observed.n, subset=subset)
    rank = pagerank(weights_src, weights_dst, observed.n, subset=subset).scores
    return inf, rank


def skill_members(observed: Observed, skill: str) -> np.ndarray:
    """Actor rows whose feature vector carries the skill."""
    mask = np.zeros(observed.n, dtype=bool)
    column = observed.space.term_index.get(skill_term(normalize_skill(skill)))
    if column is None:
        return mask
    people = observed.people.tolist()
    carriers = observed.people_matrix[:, column].nonzero()[0]
    mask[[people[i] for i in carriers]] = True
    return mask


def ranking(
    observed: Observed,
    *,
    skill: str | None = None,
    measure: str = "influence",
    influence_since: Mapping[int, float] | None = None,
) -> list[Ranked]:
    """Visible people by influence or PageRank. `influence_since` (actor row → influence) holds
    the values stored since the snapshot was taken, when new follows have been applied between
    full runs (`domain/analytics_runs.LiveInfluence`); they replace the snapshot's whole-graph
    values. A skill's sub-graph is always the snapshot's."""
    inf, rank = scores(observed, skill)
    if influence_since and skill is None:
        inf[list(influence_since)] = list(influence_since.values())
    order = np.argsort(-(inf if measure == "influence" else rank), kind="stable")
    members = skill_members(observed, skill) if skill else np.ones(observed.n, dtype=bool)
    return [
        Ranked(a.uri, a.handle, a.name, float(inf[i]), float(rank[i]))
        for i in order.tolist()
        for a in [observed.actors[i]]
        if a.visible and a.person and members[i]
    ]
