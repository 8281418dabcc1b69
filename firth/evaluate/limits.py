"""Two limits of distributional vectors, measured: antonyms and polysemy.

Antonyms
    Words that are opposites occur in the same contexts ("the water is hot / cold"), so
    their vectors are close. ``antonyms`` compares the mean cosine of WordNet antonym pairs
    with WordNet synonym pairs and with random pairs drawn from the same words (same seed,
    so the same frequency range), and counts how often a word's antonym is among its 10
    nearest neighbours. The point to show a user: antonyms look about as similar as
    synonyms, far more than random pairs, so cosine similarity is relatedness, not meaning.
    The pair lists are WordNet 3.0's (``firth/data/eval/limits``; SimLex-999 as shipped
    here has no POS/association columns to select its antonym pairs).

Polysemy
    A word has one vector whatever its senses; it is (roughly) a frequency-weighted mix of
    them (Arora et al. 2018, *Linear algebraic structure of word senses*). ``polysemy``
    takes a word's nearest neighbours and clusters them (spherical k-means, k chosen by
    silhouette among 2..4): when two senses are both frequent (bank: river / money) the
    clusters show them. The honest caveat is part of the output: the rarer sense may be
    missing from the neighbours altogether, and a low silhouette means no clear split.
"""

from __future__ import annotations

import numpy as np

from firth.evaluate.datasets import ANTONYMS_FILE, SYNONYMS_FILE, read_word_pairs
from firth.evaluate.lookup import Lookup, normed

POLYSEMY_WORDS = ["bank", "plant", "spring", "bat", "bass", "rock", "seal", "match", "light", "fair"]


def _pair_indices(look: Lookup, pairs):
    out = []
    for a, b in pairs:
        ia, ib = look.index(a), look.index(b)
        if ia is not None and ib is not None and ia != ib:
            out.append((ia, ib))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _stats(W, idx) -> dict:
    if len(idx) == 0:
        return {"pairs": 0, "mean": float("nan"), "std": float("nan"), "median": float("nan")}
    c = np.einsum("ij,ij->i", W[idx[:, 0]].astype(np.float64), W[idx[:, 1]].astype(np.float64))
    return {"pairs": int(len(idx)), "mean": float(c.mean()), "std": float(c.std()),
            "median": float(np.median(c)), "_cos": c}


def antonyms(kv, antonym_pairs=None, synonym_pairs=None, restrict: int | None = None,
             case_insensitive: bool = True, seed: int = 0, topk: int = 10) -> dict:
    antonym_pairs = antonym_pairs if antonym_pairs is not None else read_word_pairs(ANTONYMS_FILE)
    synonym_pairs = synonym_pairs if synonym_pairs is not None else read_word_pairs(SYNONYMS_FILE)
    look = Lookup.get(kv, case_insensitive, restrict)
    W = normed(kv)
    ant = _pair_indices(look, antonym_pairs)
    syn = _pair_indices(look, synonym_pairs)
    words = np.unique(np.concatenate([ant.reshape(-1), syn.reshape(-1)]))
    rng = np.random.default_rng(seed)
    n_rand = max(len(ant), 1)
    rnd = np.empty((0, 2), dtype=np.int64)
    if len(words) >= 2:
        rnd = rng.choice(words, size=(n_rand, 2))
        rnd = rnd[rnd[:, 0] != rnd[:, 1]]
    res = {
        "source": "WordNet 3.0 antonym / synonym pairs (firth/data/eval/limits)",
        "antonym": _stats(W, ant),
        "synonym": _stats(W, syn),
        "random": _stats(W, rnd),
        "coverage": {"antonym": len(ant) / max(1, len(antonym_pairs)),
                     "synonym": len(syn) / max(1, len(synonym_pairs))},
    }
    if len(ant):
        # how often the antonym is among the word's top-k neighbours (within the searched vocabulary)
        left, right = ant[:, 0], ant[:, 1]
        Wn = W[: look.n]
        hits = 0
        for s0 in range(0, len(ant), 512):  # batches: (512, n) similarities at a time
            L, R = left[s0:s0 + 512], right[s0:s0 + 512]
            sims = W[L] @ Wn.T
            rows = np.arange(len(L))
            own = sims[rows, R].copy()
            sims[rows, L] = -np.inf
            sims[rows, R] = -np.inf
            # the antonym is in the top k when fewer than k other words are more similar
            hits += int(np.count_nonzero((sims > own[:, None]).sum(axis=1) < topk))
        res["antonym_in_top%d" % topk] = hits / len(ant)
        if len(rnd):
            res["antonym_above_random_median"] = float(np.mean(res["antonym"]["_cos"] > res["random"]["median"]))
        order = np.argsort(-res["antonym"]["_cos"])[:8]
        res["most_similar_antonyms"] = [
            [kv.index_to_key[ant[i, 0]], kv.index_to_key[ant[i, 1]], round(float(res["antonym"]["_cos"][i]), 3)]
            for i in order]
    for k in ("antonym", "synonym", "random"):
        res[k].pop("_cos", None)
    return res


def _kmeans_cos(X: np.ndarray, k: int, rng, iters: int = 50):
    """Spherical k-means (cosine) with k-means++ seeding; X rows are unit vectors."""
    n = len(X)
    centers = [X[rng.integers(n)]]
    for _ in range(1, k):
        d = 1.0 - np.max(X @ np.array(centers).T, axis=1)
        d = np.clip(d, 0, None) ** 2
        centers.append(X[rng.choice(n, p=d / d.sum())] if d.sum() > 0 else X[rng.integers(n)])
    C = np.array(centers)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        new = np.argmax(X @ C.T, axis=1)
        if _ > 0 and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            m = X[labels == j].sum(axis=0)
            nm = np.linalg.norm(m)
            if nm > 0:
                C[j] = m / nm
    return labels


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance (1 - cos)."""
    D = 1.0 - X @ X.T
    ks = np.unique(labels)
    if len(ks) < 2:
        return float("nan")
    s = np.zeros(len(X))
    for i in range(len(X)):
        own = labels == labels[i]
        if own.sum() <= 1:
            continue
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == k].mean() for k in ks if k != labels[i])
        s[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(s.mean())


def polysemy(kv, word: str, topn: int = 30, ks=(2, 3, 4), seed: int = 0, restrict: int | None = None,
             case_insensitive: bool = True) -> dict:
    look = Lookup.get(kv, case_insensitive, restrict)
    i = look.index(word)
    if i is None:
        return {"word": word, "found": False}
    W = normed(kv)
    sims = W[: look.n] @ W[i]
    sims[i] = -np.inf
    topn = min(topn, look.n - 1)
    nb = np.argsort(-sims, kind="stable")[:topn]
    X = W[nb].astype(np.float64)
    best = None
    for k in ks:
        if k >= len(nb):
            continue
        labels = _kmeans_cos(X, k, np.random.default_rng(seed))
        sc = silhouette(X, labels)
        if best is None or (sc == sc and sc > best[0]):
            best = (sc, k, labels)
    clusters = []
    if best is not None:
        sc, k, labels = best
        for j in range(k):
            members = nb[labels == j]
            if len(members) == 0:
                continue
            cen = W[members].astype(np.float64).mean(axis=0)
            cen /= np.linalg.norm(cen) or 1.0
            clusters.append({"words": [kv.index_to_key[m] for m in members],
                             "similarity_to_word": float(cen @ W[i])})
        clusters.sort(key=lambda c: -len(c["words"]))
    return {
        "word": kv.index_to_key[i], "found": True, "neighbours": topn,
        "k": None if best is None else best[1],
        "silhouette": None if best is None else best[0],
        "clusters": clusters,
        "note": ("silhouette < 0.1: no clear split of the neighbours; one sense may dominate the vector"
                 if best is None or not best[0] > 0.1 else
                 "clusters of neighbours; separate senses show as separate clusters when both are frequent"),
    }
