"""One TF-IDF space shared by people and project calls, so both can be compared by cosine.

A person and a project call are both a `Document`: skills plus weighted texts. Skills live in
their own feature namespace (`skill:machine learning`) so that a declared skill is never confused
with the same words used in passing, and they are weighted above text because they are what a
person or a call says about itself on purpose. Text goes through one tokeniser for English and
for Chinese/Japanese (which have no spaces between words: runs of CJK characters become
overlapping character bigrams, as search engines do).

Weighting, per document d and term t (all vectorised over the sparse count matrix):

- count(t, d) = Σ over the document's texts of weight(text) · occurrences(t, text); a skill counts 1;
- tf = 1 + ln(count) when count ≥ 1, else count (sublinear; the linear piece below 1 keeps a text
  with a small weight positive instead of turning its terms negative, and joins 1 + ln at 1);
- idf = ln((1 + n) / (1 + df)) + 1 (smooth: a term in every document keeps a small weight);
- skill columns are multiplied by `skill_weight`; then each row is scaled to unit L2 norm
  (a document with no terms stays an all-zero row, whose similarity to anything is 0).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from talentfed.text import normalize_skill, normalize_skills

SKILL_PREFIX = "skill:"
DEFAULT_SKILL_WEIGHT = 3.0

# Small on purpose: idf already pushes common words down; this only drops words that carry no
# topic at all and would otherwise make every English profile look a little similar.
_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can cant could did didnt do does doesnt doing dont down during each few
    for from further had has have having he her here hers herself him himself his how i if in into is
    isnt it its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with wont would you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Hiragana, Katakana (with extensions), CJK unified ideographs (with extension A, compatibility
# ideographs and the supplementary planes). Hangul is not here: Korean separates words by spaces.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:\+\+(?!\w)|#(?!\w))?)")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+(?:@[\w.\-]+)?")
_TAG = re.compile(r"<[^>]*>")
_APOSTROPHE = re.compile(r"'s\b|'")


@dataclass(frozen=True)
class Document:
    """What is known about one person or project call, as plain data.

    `texts` are (text, weight) pairs: e.g. profile text at 1.0, the person's own articles, questions
    and answers at a lower weight, or a project call's description. Texts may be HTML (post
    content): tags are dropped and entities unescaped before tokenising.
    """

    skills: Sequence[str] = ()
    texts: Sequence[tuple[str, float]] = ()


def tokenize(text: str) -> list[str]:
    """Text → terms: words for space-separated scripts, character bigrams for CJK runs.

    Hashtags are split where their CamelCase words start, by the same rule as skills
    (`#MachineLearning` → `machine`, `learning`); URLs, mentions and stop words are dropped, as are
    one-letter and all-digit words (noise in profiles; `c++` and `c#` are kept whole).
    """
    text = unicodedata.normalize("NFKC", html.unescape(_TAG.sub(" ", text)))
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    text = _HASHTAG.sub(lambda match: f" {normalize_skill(match.group(1))} ", text)
    text = _APOSTROPHE.sub("", text.replace("\u2019", "'").lower())
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        run = match.group("cjk")
        if run is not None:
            terms.extend(_bigrams(run))
        else:
            word = match.group("word")
            if len(word) > 1 and not word.isdigit() and word not in STOP_WORDS:
                terms.append(word)
    return terms


def _bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run (a lone character stays a unigram)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def skill_term(skill: str) -> str:
    """The feature name of a skill: its normalised form in the skill namespace."""
    return SKILL_PREFIX + normalize_skill(skill)


def document_counts(document: Document) -> dict[str, float]:
    """Weighted term counts of one document (see the module docstring for the rule)."""
    counts: defaultdict[str, float] = defaultdict(float)
    for skill in normalize_skills(list(document.skills)):
        counts[SKILL_PREFIX + skill] = 1.0
    for text, weight in document.texts:
        if weight <= 0:
            continue
        for term, occurrences in Counter(tokenize(text)).items():
            counts[term] += weight * occurrences
    return counts


def sublinear_tf(counts: np.ndarray) -> NDArray[np.float64]:
    """1 + ln(count) from 1 up, linear below 1 (continuous, increasing, never negative)."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.where(counts >= 1.0, 1.0 + np.log(np.maximum(counts, 1.0)), counts)


def smooth_idf(document_frequency: np.ndarray, n_documents: int) -> NDArray[np.float64]:
    """ln((1 + n) / (1 + df)) + 1."""
    df = np.asarray(document_frequency, dtype=np.float64)
    return np.log((1.0 + n_documents) / (1.0 + df)) + 1.0


def l2_normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to unit length; all-zero rows stay zero (no division by zero)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
    return matrix


def weigh(counts: sp.csr_matrix, column_scale: np.ndarray) -> sp.csr_matrix:
    """Weighted counts → sublinear tf × per-column scale (idf × skill weight) → unit rows."""
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.data = sublinear_tf(weighted.data) * column_scale[weighted.indices]
    return l2_normalize_rows(weighted)


@dataclass(frozen=True)
class FeatureSpace:
    """A fitted vocabulary with its idf, and the TF-IDF rows of the documents it was fitted on.

    Columns `[0, n_skill_terms)` are skills (named `skill:…`), the rest text terms; both parts are
    sorted, so the same documents always give the same columns.
    """

    matrix: sp.csr_matrix
    vocabulary: tuple[str, ...]
    idf: NDArray[np.float64]
    n_skill_terms: int
    skill_weight: float = DEFAULT_SKILL_WEIGHT
    column_scale: NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))

    @cached_property
    def term_index(self) -> dict[str, int]:
        return {term: index for index, term in enumerate(self.vocabulary)}

    @cached_property
    def is_skill(self) -> NDArray[np.bool_]:
        """Boolean mask over the columns: True for skill terms."""
        return np.arange(len(self.vocabulary)) < self.n_skill_terms

    def transform(self, documents: Iterable[Document]) -> sp.csr_matrix:
        """Rows for new documents in this space (for a query written after fitting).

        Terms the space has never seen are dropped: they could not match any fitted row anyway.
        """
        rows = [document_counts(document) for document in documents]
        counts = _count_matrix(rows, self.term_index, len(self.vocabulary))
        return weigh(counts, self.column_scale)


def build_features(
    documents: Sequence[Document], *, skill_weight: float = DEFAULT_SKILL_WEIGHT
) -> FeatureSpace:
    """Fit the shared space on all documents (people and project calls together) and weigh them.

    Fitting people and calls together matters: the idf then reflects how rare a term is across
    everything that will be compared, so a skill every call asks for does not dominate matching.
    """
    if skill_weight <= 0:
        raise ValueError("skill_weight must be positive")
    rows = [document_counts(document) for document in documents]
    terms = set().union(*rows) if rows else set()
    skills = sorted(term for term in terms if term.startswith(SKILL_PREFIX))
    vocabulary = (*skills, *sorted(terms.difference(skills)))
    term_index = {term: index for index, term in enumerate(vocabulary)}
    counts = _count_matrix(rows, term_index, len(vocabulary))
    idf = smooth_idf(np.bincount(counts.indices, minlength=len(vocabulary)), counts.shape[0])
    scale = idf.copy()
    scale[: len(skills)] *= skill_weight
    return FeatureSpace(
        matrix=weigh(counts, scale),
        vocabulary=vocabulary,
        idf=idf,
        n_skill_terms=len(skills),
        skill_weight=skill_weight,
        column_scale=scale,
    )


def _count_matrix(rows: list[dict[str, float]], term_index: dict[str, int], n_terms: int) -> sp.csr_matrix:
    """Per-document weighted counts → CSR (documents × terms), terms outside the index dropped."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    columns: list[int] = []
    values: list[float] = []
    for position, counts in enumerate(rows):
        for term, count in counts.items():
            column = term_index.get(term)
            if column is not None and count > 0:
                columns.append(column)
                values.append(count)
        indptr[position + 1] = len(columns)
    matrix = sp.csr_matrix(
        (np.asarray(values, dtype=np.float64), np.asarray(columns, dtype=np.int64), indptr),
        shape=(len(rows), n_terms),
    )
    matrix.sort_indices()
    return matrix
