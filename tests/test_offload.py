"""talentfed/offload.py: CPU-bound work leaves the serving process when it is large enough."""

from __future__ import annotations

import os

import numpy as np

from talentfed.analytics.features import Document, build_features
from talentfed.offload import PROCESS_THRESHOLD, cpu_bound


async def test_small_work_runs_in_a_thread_of_this_process() -> None:
    assert await cpu_bound(os.getpid, items=PROCESS_THRESHOLD - 1) == os.getpid()


async def test_large_work_runs_in_another_process_below_the_web_process_priority() -> None:
    other = await cpu_bound(os.getpid, items=PROCESS_THRESHOLD)
    assert other != os.getpid()
    assert await cpu_bound(os.getpid, items=PROCESS_THRESHOLD) == other  # one process, kept
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    theirs = await cpu_bound(os.getpriority, os.PRIO_PROCESS, 0, items=PROCESS_THRESHOLD)
    assert theirs > ours or ours == 19  # lowered (by 5, capped at 19)


async def test_a_feature_space_built_in_the_process_is_the_one_built_here() -> None:
    documents = [
        Document(skills=("graph neural networks",), texts=[("Message passing on molecules", 1.0)]),
        Document(
            skills=("robotics",), texts=[("机器学习 for grasping", 1.0), ("<p>Control &amp; RL</p>", 0.3)]
        ),
    ]
    here = build_features(documents)
    there = await cpu_bound(build_features, documents, items=PROCESS_THRESHOLD)
    assert there.vocabulary == here.vocabulary
    assert np.array_equal(there.matrix.toarray(), here.matrix.toarray())
    assert there.term_index == here.term_index
