"""fastText trainer: Numba kernels vs the plain oracle, determinism, CLI, .bin export to Facebook."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from firth.train.fasttext import kernels as K
from firth.train.fasttext import reference as R
from firth.train.fasttext import FastText
from firth.vectors import FastTextVectors
from firth.train.kernels import Job, Sampling, Sentences, build_alias, job_seed
from firth.vectors.subwords import subword_table
from firth.errors import FirthError
from tests.conftest import shared_path

WORDS = ["the", "banana", "ananas", "cat", "sat", "on", "mat", "naïve", "a", "xo"]


def _tiny(seed=3, n_sent=12, length=15):
    rng = np.random.default_rng(seed)
    counts = np.array([50, 30, 20, 15, 12, 10, 8, 6, 5, 4], np.float64)
    p = counts / counts.sum()
    ids = rng.choice(len(WORDS), size=n_sent * length, p=p).astype(np.int32)
    offsets = np.arange(0, n_sent * length + 1, length, dtype=np.int64)
    keep = np.ones(len(WORDS), np.float32)
    keep[:2] = [0.6, 0.8]  # some subsampling draws
    prob, alias = build_alias(p ** 0.75 / np.sum(p ** 0.75))
    return ids, offsets, keep, prob, alias


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_kernel_equals_plain_reference(model):
    ids, offsets, keep, prob, alias = _tiny()
    dim, bucket = 8, 37  # few buckets: hash collisions and repeated rows happen
    off, rows = subword_table(WORDS, 2, 4, bucket)
    assert any(len(set(rows[off[k] : off[k + 1]])) < off[k + 1] - off[k] for k in range(len(WORDS)))
    rng = np.random.default_rng(0)
    syn0 = ((rng.random((len(WORDS) + bucket, dim), dtype=np.float32) * 2 - 1) / dim).astype(np.float32)
    syn1 = ((rng.random((len(WORDS), dim), dtype=np.float32) * 2 - 1) / dim).astype(np.float32)
    a0, b0 = syn0.copy(), syn1.copy()
    sents = Sentences(ids, offsets)
    job = Job(0, len(offsets) - 1, 0.05, 0.01, np.uint64(job_seed(1, 0, 0)))
    sampling = Sampling(keep, prob, alias, 3, 4)
    sub = K.Subwords(off, rows, K.subword_scale(off, rows))
    kern, ref = (K.train_ft_sg, R.train_ft_sg) if model == "sg" else (K.train_ft_cbow, R.train_ft_cbow)
    got = kern(sents, job, syn0, syn1, sub, sampling)
    want = ref(sents, job, a0, b0, sub, sampling)
    assert got[1:] == want[1:]  # same words and examples: same random draws
    assert got[0] == pytest.approx(want[0], rel=1e-4)
    assert not np.array_equal(syn0, syn0 * 0)
    np.testing.assert_allclose(syn0, a0, atol=2e-5)
    np.testing.assert_allclose(syn1, b0, atol=2e-5)


def _train(corpus, **kw):
    opts = dict(model="sg", dim=16, epochs=1, min_count=3, workers=1, seed=7, bucket=20_000, progress=False)
    opts.update(kw)
    return FastText(**opts).train(str(corpus))


def test_one_worker_is_deterministic_and_bucket_honoured():
    corpus = shared_path("corpora", "small", "en-100k.txt")
    a = _train(corpus)
    b = _train(corpus)
    assert np.array_equal(a.syn0, b.syn0) and np.array_equal(a.syn1, b.syn1)
    kv = a.wv
    assert isinstance(kv, FastTextVectors) and kv.bucket == 20_000 and kv.vectors_ngrams.shape == (20_000, 16)
    assert np.isfinite(a.epoch_losses[0]) and 0 < a.epoch_losses[0] < 5
    c = _train(corpus, model="cbow")
    assert np.isfinite(c.epoch_losses[0])
    v = kv.get_vector("unfriendliest")
    assert v.shape == (16,) and np.abs(v).sum() > 0
    assert len(kv.most_similar("unfriendliest", topn=3)) == 3


def test_cli_train_ngrams_similar_and_determinism_across_processes(tmp_path, capsys):
    corpus = shared_path("corpora", "small", "en-100k.txt")
    from firth.cli import main
    from firth.vectors import load_vectors

    out = tmp_path / "ft.firth"
    args = ["train", str(corpus), "-o", str(out), "--model", "fasttext-sg", "--dim", "16", "--epochs", "1",
            "--min-count", "3", "--workers", "1", "--seed", "7", "--bucket", "20000", "--minn", "3", "--maxn", "6"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "memory: about" in err and "20,000 n-gram buckets" in err
    kv = load_vectors(out)
    assert isinstance(kv, FastTextVectors) and (kv.minn, kv.maxn, kv.bucket) == (3, 6, 20_000)
    assert main(["similar", str(out), "unfriendliest", "--topn", "3"]) == 0
    assert main(["ngrams", str(out), "eating"]) == 0
    shown = capsys.readouterr().out
    assert "<ea" in shown and "ng>" in shown and "share" in shown
    # the same run in another process gives bit-identical vectors
    out2 = tmp_path / "ft2.firth"
    args2 = [a if a != str(out) else str(out2) for a in args] + ["-q"]
    subprocess.run([sys.executable, "-m", "firth.cli", *args2], check=True)
    kv2 = load_vectors(out2)
    assert np.array_equal(np.asarray(kv.vectors_ngrams), np.asarray(kv2.vectors_ngrams))
    assert np.array_equal(np.asarray(kv.vectors), np.asarray(kv2.vectors))


def test_firth_model_exports_bin_that_facebook_loads(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    corpus = shared_path("corpora", "small", "en-100k.txt")
    kv = _train(corpus, model="cbow").wv
    path = tmp_path / "firth.bin"
    kv.save_facebook(path)
    ft = fasttext.load_model(str(path))
    assert ft.words == kv.index_to_key
    for w in kv.index_to_key[:300] + ["unfriendliest", "naïve", "zqx"]:
        np.testing.assert_allclose(ft.get_word_vector(w), kv.get_vector(w), atol=1e-5)
    np.testing.assert_array_equal(ft.get_output_matrix(), kv.output)


def test_bad_options():
    for kw, msg in [(dict(minn=5, maxn=3), "--minn"), (dict(bucket=-1), "--bucket"), (dict(tied=True), "--tied"),
                    (dict(model="skipgram"), "--model"), (dict(maxn=3, bucket=0), "--bucket 0")]:
        with pytest.raises(FirthError, match=msg):
            FastText(**kw)
    FastText(maxn=0, bucket=0)  # no n-grams: plain word rows, allowed


def test_checkpoint_resume_gives_the_same_vectors(tmp_path):
    corpus = shared_path("corpora", "small", "en-100k.txt")
    full = _train(corpus, epochs=2, bucket=5000)
    ck = tmp_path / "ck"
    first = FastText(model="sg", dim=16, epochs=2, min_count=3, workers=1, seed=7, bucket=5000)
    first.build_vocab(str(corpus))
    runner_epochs = []
    # stop after epoch 1 by raising from the epoch-end callback; the checkpoint holds epoch 1
    class Stop(Exception):
        pass

    def cb(model, epoch, loss):
        runner_epochs.append(epoch)
        raise Stop

    with pytest.raises(Stop):
        first.train(checkpoint=ck, callbacks=[cb])
    resumed = FastText(model="sg", dim=16, epochs=2, min_count=3, workers=1, seed=7, bucket=5000)
    resumed.train(str(corpus), checkpoint=ck)
    assert resumed.epochs_trained == 2 and runner_epochs == [0]
    np.testing.assert_array_equal(resumed.syn0, full.syn0)
    with pytest.raises(FirthError, match="different settings"):
        FastText(model="sg", dim=16, epochs=2, min_count=3, workers=1, seed=7, bucket=6000).train(str(corpus), checkpoint=ck)


def test_uniform_init_is_uniform_and_independent_of_the_thread_split():
    out1 = np.empty((5000, 16), np.float32)
    K.uniform_rows(out1, 0, 5000, np.float32(0.0625), 7)
    out2 = np.empty_like(out1)
    for a, b in [(0, 1234), (1234, 1235), (1235, 5000)]:  # any split of the rows
        K.uniform_rows(out2, a, b, np.float32(0.0625), 7)
    assert np.array_equal(out1, out2)
    assert out1.min() >= -0.0625 and out1.max() < 0.0625
    # uniform on [-l, l): mean 0, variance l^2 / 3; rows and columns uncorrelated
    assert abs(out1.mean()) < 5e-4 and abs(out1.var() / (0.0625**2 / 3) - 1) < 0.02
    assert abs(np.corrcoef(out1[:, 0], out1[:, 1])[0, 1]) < 0.05
    assert abs(np.corrcoef(out1[:-1, 0], out1[1:, 0])[0, 1]) < 0.05
    out3 = np.empty_like(out1)
    K.uniform_rows(out3, 0, 5000, np.float32(0.0625), 8)
    assert not np.array_equal(out1, out3)  # the seed matters


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_reported_loss_is_the_mean_per_example_of_the_epoch(model):
    """``epoch_losses[e]`` = the epoch's summed negative-sampling loss (positive + negatives,
    each pair's computed just before its update) / its examples ((centre, context) pairs for
    skip-gram, centre words for CBOW), checked against the literal oracle; ``running_losses``
    is what fastText prints: the mean since the start of training."""
    from firth.train.kernels import job_seed

    rng = np.random.default_rng(4)
    sents = [list(rng.choice(WORDS, size=12)) for _ in range(40)]
    m = FastText(model=model, dim=8, epochs=2, min_count=1, bucket=50, workers=1, seed=5, progress=False)
    m.build_vocab(sents)
    s0, s1 = m.syn0.copy(), m.syn1.copy()
    m.train()
    enc = m._encoded
    sents, _, _, sampling = m._kernel_inputs()
    sub = K.Subwords(*m._subword_tables())
    T = int(enc.offsets[-1])
    fn = R.train_ft_sg if model == "sg" else R.train_ft_cbow
    sums, exs = [], []
    for e in range(2):  # one job per epoch; lr decays linearly from 0.05 to 0 over both epochs
        a0, a1 = m.alpha * (1 - e / 2), m.alpha * (1 - (e + 1) / 2)
        job = Job(0, len(enc.offsets) - 1, a0, a1, np.uint64(job_seed(5, e, 0)))
        loss, _, ex = fn(sents, job, s0, s1, sub, sampling)
        sums.append(loss)
        exs.append(ex)
    assert m.epoch_loss_sums == pytest.approx(sums, rel=1e-4)
    assert m.epoch_losses == pytest.approx([s / n for s, n in zip(sums, exs)], rel=1e-4)
    assert m.running_losses == pytest.approx([sums[0] / exs[0], sum(sums) / sum(exs)], rel=1e-4)
    assert T > 0 and m.alpha == 0.05 and m.min_alpha == 0.0  # fastText's defaults
