"""Fuzzing worker: loads (and briefly uses) one file per request, in its own process.

Reads JSON requests ``{"loader": ..., "path": ...}`` on stdin, one per line; answers one JSON
line each: ``"ok"``, ``"firth"`` (a one-line FirthError), or a description of anything else
(another exception, a multi-line message). A segfault or abort ends the process; the parent
sees that as a crash of the request it was waiting for. Memory is capped, so a file that makes
firth allocate what its header claims shows up as MemoryError instead of swapping the machine.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
import warnings

import numpy as np


def _vectors(path):
    from firth.vectors import FastTextVectors, load_vectors

    kv = load_vectors(path)
    n, d = kv.vectors.shape
    assert n == len(kv.index_to_key) == len(kv.key_to_index), "words vs rows"
    assert d == kv.vector_size and d > 0, "dim"
    assert np.isfinite(np.asarray(kv.vectors)).all(), "non-finite vectors loaded"
    if n:
        kv.most_similar(kv.index_to_key[0], topn=3)
        kv[kv.index_to_key[-1]]
    if isinstance(kv, FastTextVectors):
        v = kv["zqxj-unseen-word"]
        assert v.shape == (d,) and np.isfinite(v).all(), "unseen word vector"


def _classifier(path):
    from firth.tasks.classify import load_classifier

    m = load_classifier(path)
    p = m.predict_proba([["a", "good", "film"], ["zzz"], []])
    assert p.shape == (3, len(m.labels.names)) and np.isfinite(p).all(), "probabilities"


def _tagger(path):
    from firth.tasks.tagging import load_tagger

    m = load_tagger(path)
    out = m.predict([["the", "cat", "sat"], ["zzz"]])
    assert [len(t) for t in out] == [3, 1], "one tag per token"


def _index(path):
    from firth.search.index import Index

    idx = Index.load(path)
    docs, scores = idx.search(idx.query_terms("boundary layer flow wing"), topk=5)
    assert np.isfinite(scores).all()
    for d in range(min(idx.n_docs, 3)):
        idx.doc_tokens(d)
        idx.doc_terms(d)


def _rnn(path):
    from firth.rnn import load_model

    model, _ = load_model(path)
    model(**model.embed.batch([["the", "cat"], ["zzz"]]))


CHECKPOINT_CORPUS = "the cat sat on the mat and the dog ran to the cat\n" * 20 + "a wing in the flow of air\n" * 10
CHECKPOINT_RUNS = {  # seed directory name -> (trainer, options, epochs saved of 3): two epochs = a fallback
    "ck-sg": ("word2vec", dict(model="sg", dim=4, epochs=3, min_count=1, workers=1, seed=1), 2),
    "ck-cbow-tied": ("word2vec", dict(model="cbow", dim=4, epochs=3, min_count=1, workers=1, seed=1, tied=True), 1),
    "ck-ft": ("fasttext", dict(model="sg", dim=4, epochs=3, min_count=1, workers=1, seed=1, bucket=50, minn=2,
                               maxn=3), 1),
}


def checkpoint_trainer(name: str):
    from firth.train.fasttext import FastText
    from firth.train.word2vec import Word2Vec

    kind, opts, _ = CHECKPOINT_RUNS[name]
    return (FastText if kind == "fasttext" else Word2Vec)(**opts)


def _checkpoint(path):
    """Resume training from the (mutated) checkpoint: the kernels run on whatever it loaded."""
    import tempfile
    from pathlib import Path

    corpus = Path(tempfile.gettempdir()) / f"firth-fuzz-corpus-{os.getpid()}.txt"
    if not corpus.exists():
        corpus.write_text(CHECKPOINT_CORPUS)
    m = checkpoint_trainer(Path(path).name)
    try:
        m.train(str(corpus), checkpoint=path)
        assert m.epochs_trained == 3, "epochs"
        v = m.vectors(copy=False)
        assert np.isfinite(np.asarray(v.vectors)).all(), "non-finite vectors"
    finally:
        m.close()


LOADERS = {"vectors": _vectors, "classifier": _classifier, "tagger": _tagger, "index": _index, "rnn": _rnn,
           "checkpoint": _checkpoint}


def main():
    from firth.errors import FirthError

    limit = int(os.environ.get("FIRTH_FUZZ_MEMORY", 3 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")
    for line in sys.stdin:
        req = json.loads(line)
        try:
            LOADERS[req["loader"]](req["path"])
            res = "ok"
        except FirthError as e:
            msg = str(e)
            res = "firth" if msg and "\n" not in msg else f"FirthError not one line: {msg!r}"
        except BaseException as e:  # noqa: BLE001 -- the point is to report anything else
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
            res = f"{type(e).__name__}: {str(e)[:300]} at {where}"
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
