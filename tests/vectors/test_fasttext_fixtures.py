"""Shared fixture for the fastText tests: a tiny Facebook model, trained once per process.

Trained with the `fasttext-numpy2` package (imports as ``fasttext``; a test-only dependency)
on the first 100,000 words of en-mix: skip-gram, dim 10, 1 epoch, 2 threads, 50,000 buckets.
"""

from __future__ import annotations

import pytest

from tests.conftest import shared_path

_CACHE: dict = {}


def trained_model(tmp_path_factory):
    """(fasttext model object, path of its .bin); skips if fasttext or the corpus is absent."""
    if "model" not in _CACHE:
        fasttext = pytest.importorskip("fasttext")
        corpus = shared_path("corpora", "small", "en-100k.txt")
        path = tmp_path_factory.mktemp("fasttext") / "tiny.bin"
        # fasttext-numpy2 aborts some short runs with "Encountered NaN" at random (measured:
        # 3-7 of 10 runs with the same data and settings, one thread or two), so the fault is
        # timing, not data. A retry gives an equally valid model.
        for attempt in range(10):
            try:
                ft = fasttext.train_unsupervised(
                    str(corpus), model="skipgram", dim=10, epoch=1, thread=2, minCount=2,
                    bucket=50_000, minn=3, maxn=6, verbose=0,
                )
                break
            except RuntimeError as e:
                if "NaN" not in str(e) or attempt == 9:
                    raise
        ft.save_model(str(path))
        _CACHE["model"] = (ft, path)
    return _CACHE["model"]


@pytest.fixture
def fasttext_model(tmp_path_factory):
    return trained_model(tmp_path_factory)
