"""The shared TF-IDF space: tokenising English, Chinese and Japanese, hashtags, skills, weighting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from talentfed.analytics.features import (
    Document,
    build_features,
    skill_term,
    sublinear_tf,
    tokenize,
)
from talentfed.text import normalize_skill


def test_english_is_lower_cased_without_stop_words_urls_or_mentions() -> None:
    text = "The <b>Robotics</b> lab at https://uni.example/lab, with @ada@uni.example &amp; Bob's 2024 team"
    assert tokenize(text) == ["robotics", "lab", "bob", "team"]


def test_chinese_runs_become_overlapping_character_bigrams() -> None:
    assert tokenize("自然语言处理") == ["自然", "然语", "语言", "言处", "处理"]


def test_japanese_kana_and_kanji_become_bigrams_and_mixed_text_splits_by_script() -> None:
    assert tokenize("深層学習の研究") == ["深層", "層学", "学習", "習の", "の研", "研究"]
    assert tokenize("AI研究 and ロボット") == ["ai", "研究", "ロボ", "ボッ", "ット"]


def test_a_lone_cjk_character_is_kept_and_full_width_latin_is_folded() -> None:
    assert tokenize("光 ＡＩ") == ["光", "ai"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("#MachineLearning", ["machine", "learning"]),
        ("love #HTTPServer design", ["love", "http", "server", "design"]),
        ("#PostgreSQL tips", ["postgresql", "tips"]),
        ("#deep_learning", ["deep", "learning"]),
        ("#機械学習", ["機械", "械学", "学習"]),
    ],
)
def test_hashtags_are_split_where_their_camel_case_words_start(text: str, terms: list[str]) -> None:
    assert tokenize(text) == terms


def test_programming_language_names_survive() -> None:
    assert tokenize("C++ and C# but not C") == ["c++", "c#"]


def test_skills_are_normalised_by_the_profiles_rule_into_their_own_namespace() -> None:
    space = build_features([Document(skills=["#MachineLearning"]), Document(skills=["machine-learning "])])
    assert skill_term("#MachineLearning") == "skill:" + normalize_skill("#MachineLearning")
    assert space.vocabulary == ("skill:machine learning",)
    assert space.n_skill_terms == 1
    assert np.allclose(space.matrix.toarray(), [[1.0], [1.0]])


def test_skill_and_word_namespaces_are_separate_and_skills_come_first() -> None:
    space = build_features([Document(skills=["Rust"], texts=[("rust belt history", 1.0)])])
    assert space.vocabulary == ("skill:rust", "belt", "history", "rust")
    assert space.is_skill.tolist() == [True, False, False, False]


def test_weights_follow_the_documented_formula() -> None:
    documents = [
        Document(skills=["Python"], texts=[("robots robots robots", 1.0), ("vision", 0.5)]),
        Document(texts=[("robots", 1.0)]),
    ]
    space = build_features(documents, skill_weight=3.0)
    n = 2
    idf = {"skill:python": math.log((1 + n) / 2) + 1, "robots": math.log((1 + n) / 3) + 1}
    idf["vision"] = idf["skill:python"]
    raw = {
        "skill:python": 3.0 * idf["skill:python"] * 1.0,  # skill weight × idf × tf(1)
        "robots": idf["robots"] * (1 + math.log(3)),  # sublinear tf of 3 occurrences
        "vision": idf["vision"] * 0.5,  # weighted count 0.5 < 1: linear piece
    }
    norm = math.sqrt(sum(value**2 for value in raw.values()))
    row = dict(zip(space.vocabulary, space.matrix.toarray()[0], strict=True))
    for term, value in raw.items():
        assert row[term] == pytest.approx(value / norm)
    assert space.idf[space.term_index["robots"]] == pytest.approx(idf["robots"])


def test_rows_are_unit_length_and_an_empty_document_is_a_zero_row() -> None:
    space = build_features(
        [
            Document(skills=["Go"], texts=[("distributed systems", 1.0)]),
            Document(),
            Document(texts=[("the", 1)]),
        ]
    )
    norms = np.sqrt(np.asarray(space.matrix.multiply(space.matrix).sum(axis=1)).ravel())
    assert norms.tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_skills_weigh_more_than_words_of_the_same_rarity() -> None:
    space = build_features([Document(skills=["optics"], texts=[("lasers", 1.0)]), Document()])
    row = dict(zip(space.vocabulary, space.matrix.toarray()[0], strict=True))
    assert row["skill:optics"] == pytest.approx(3 * row["lasers"])


def test_transform_puts_new_documents_in_the_fitted_space() -> None:
    documents = [
        Document(skills=["Python"], texts=[("protein folding", 1.0)]),
        Document(skills=["Rust"], texts=[("compilers", 1.0)]),
    ]
    space = build_features(documents)
    again = space.transform([*documents, Document(texts=[("unseen words only", 1.0)])])
    assert np.allclose(again[:2].toarray(), space.matrix.toarray())
    assert again[2].nnz == 0


def test_sublinear_tf_is_continuous_increasing_and_positive() -> None:
    counts = np.array([0.1, 0.5, 1.0, 2.0, 10.0])
    assert sublinear_tf(counts).tolist() == pytest.approx([0.1, 0.5, 1.0, 1 + math.log(2), 1 + math.log(10)])


def test_non_positive_text_weights_are_ignored_and_skill_weight_must_be_positive() -> None:
    space = build_features([Document(texts=[("ignored", 0.0), ("kept", 1.0)])])
    assert space.vocabulary == ("kept",)
    with pytest.raises(ValueError):
        build_features([], skill_weight=0)
