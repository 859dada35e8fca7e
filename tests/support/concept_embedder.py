"""A test double for the sentence-embedding model: deterministic, tiny, and no claim about quality.

Each word of a small table points to one "concept" axis, whatever its language or spelling
("gnn" and "graph" to one, "机器学习" and "machine" to another), and a text's vector is the sum of
its words' axes. So two texts with no word in common can still be close, which is what the real
model is for; tests of the bookkeeping and of the reasons use this instead of the model.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

CONCEPTS = {
    "gnn": 0,
    "gnns": 0,
    "graph": 0,
    "graphs": 0,
    "图神经网络": 0,
    "机器学习": 1,
    "machine": 1,
    "learning": 1,
    "speech": 2,
    "acoustic": 2,
    "语音识别": 2,
    "cooking": 3,
    "pasta": 3,
}
WIDTH = 8
_WORD = re.compile(r"[a-z]+|[^\x00-\x7f]+")


class ConceptEmbedder:
    def __init__(self, name: str = "concept-test-double") -> None:
        self.name = name
        self.calls: list[list[str]] = []  # every batch asked for: what was (re-)embedded

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), WIDTH), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word in CONCEPTS:
                    vectors[row, CONCEPTS[word]] += 1
            vectors[row, WIDTH - 1] += 0.01  # never all zeros: every text is embedded
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    @property
    def embedded(self) -> list[str]:
        return [text for batch in self.calls for text in batch]
