"""The real model, where the `semantic` extra is installed (skipped elsewhere), and the node
without it."""

from __future__ import annotations

import numpy as np
import pytest

from talentfed.analytics import embedders


def test_without_the_extra_there_is_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedders, "semantic_installed", lambda: False)
    assert embedders.load_embedder() is None


def test_the_model_puts_translations_and_abbreviations_near_each_other() -> None:
    pytest.importorskip(embedders.MODEL_PACKAGE, reason="the `semantic` extra is not installed")
    model = embedders.load_embedder()
    assert model is not None and model.name == embedders.MODEL_NAME
    texts = ["machine learning", "机器学习", "speech recognition", "语音识别", "cooking pasta at home"]
    vectors = model.embed(texts)
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    similarity = vectors @ vectors.T
    # Each English phrase is nearer its Chinese translation than to anything else.
    assert similarity[0, 1] > max(similarity[0, 2:].max(), 0.6)
    assert similarity[2, 3] > max(similarity[2, [0, 1, 4]].max(), 0.5)
    assert model.embed([]).shape == (0, 512)
