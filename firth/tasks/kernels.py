"""Numba kernels of the averaged-embedding classifier (fastText supervised, softmax loss).

For one example with feature rows ``f_1..f_n`` (words and hashed word n-grams) and gold
class ``y``::

    h      = (1/n) * sum_k W_in[f_k]                 # the document = mean of its features
    p      = softmax(W_out @ h)
    loss   = -log p[y]
    g_c    = lr * ([c == y] - p[c])                  # = -lr * dloss/dlogit_c
    grad_h = sum_c g_c * W_out[c]                    # computed before W_out changes
    W_out[c] += g_c * h
    W_in[f_k] += grad_h / n      for every k         # dloss/dW_in[f_k] = dloss/dh / n

which is fastText's ``Model::update`` for ``-loss softmax``. With ``-loss ova`` (one-vs-all,
multi-label: ``Y`` is the example's set of labels) every class is an independent logistic
regression, fastText's ``OneVsAllLoss``::

    s_c    = sigmoid(W_out[c] . h)
    loss   = -sum_c ( [c in Y] log s_c + [c not in Y] log(1 - s_c) )
    g_c    = lr * ([c in Y] - s_c)                   # = -lr * dloss/d(W_out[c] . h)

followed by the same ``grad_h`` / ``W_out`` / ``W_in`` updates. Training is Hogwild: each
thread runs plain SGD over its share of a shuffled epoch, writing to the shared matrices
without locks. With one thread it is exactly sequential SGD (and bit-reproducible);
:func:`reference_sgd_step` in ``avg.py`` is the readable NumPy oracle of one step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_MULT = np.uint64(116049371)  # fastText's word n-gram hash multiplier


@njit(cache=True)
def ngram_features(word_ids, word_hashes, offsets, n_max, bucket, out_ids, out_is_ngram, out_offsets):
    """Per example: the known word ids, then the bucket of every word n-gram (2..n_max).

    ``out_is_ngram`` marks bucket values (not yet rows). Returns the total number written.
    """
    k = 0
    for e in range(offsets.shape[0] - 1):
        out_offsets[e] = k
        a, b = offsets[e], offsets[e + 1]
        for i in range(a, b):
            if word_ids[i] >= 0:
                out_ids[k] = word_ids[i]
                out_is_ngram[k] = False
                k += 1
        for i in range(a, b):
            h = word_hashes[i]
            for j in range(i + 1, min(b, i + n_max)):
                h = h * _MULT + word_hashes[j]
                out_ids[k] = np.int64(h % np.uint64(bucket))
                out_is_ngram[k] = True
                k += 1
    out_offsets[offsets.shape[0] - 1] = k
    return k


@njit(cache=True, inline="always")
def _mean_features(W_in, ids, a, b, hidden):
    """hidden = the mean of the rows ids[a:b] of W_in (a >= b: zeros). Returns 1 / (b - a)."""
    d = W_in.shape[1]
    for j in range(d):
        hidden[j] = 0.0
    for k in range(a, b):
        r = ids[k]
        for j in range(d):
            hidden[j] += W_in[r, j]
    if b <= a:
        return np.float32(0.0)
    inv = np.float32(1.0) / np.float32(b - a)
    for j in range(d):
        hidden[j] *= inv
    return inv


@njit(cache=True, inline="always")
def _scores(W_out, hidden, out):
    """out[c] = W_out[c] . hidden for every class. Returns the largest."""
    mx = -np.inf
    for c in range(W_out.shape[0]):
        s = np.float32(0.0)
        for j in range(hidden.shape[0]):
            s += W_out[c, j] * hidden[j]
        out[c] = s
        if s > mx:
            mx = s
    return mx


@njit(cache=True, inline="always")
def _softmax(out, mx):
    """out <- softmax(out), given its largest element mx."""
    z = np.float32(0.0)
    for c in range(out.shape[0]):
        out[c] = np.exp(out[c] - mx)
        z += out[c]
    for c in range(out.shape[0]):
        out[c] /= z


@njit(cache=True, inline="always")
def _class_step(W_out, c, g, hidden, grad):
    """grad += g * W_out[c] (the row before its update), then W_out[c] += g * hidden."""
    for j in range(hidden.shape[0]):
        grad[j] += g * W_out[c, j]
        W_out[c, j] += g * hidden[j]


@njit(cache=True, inline="always")
def _input_step(W_in, ids, a, b, grad, inv):
    """Every feature row W_in[ids[k]] += grad * inv (the gradient of the mean)."""
    for j in range(grad.shape[0]):
        grad[j] *= inv
    for k in range(a, b):
        r = ids[k]
        for j in range(grad.shape[0]):
            W_in[r, j] += grad[j]


# The steps compile with error_model="numpy" (no ZeroDivisionError branches; n, z > 0 here):
# with those branches LLVM cannot drop the reference counting of the arrays passed to the
# inlined helpers above (see firth/train/kernels.py; benchmarks/ab_tasks_kernels.py).
@njit(cache=True, error_model="numpy")
def _sgd_example(W_in, W_out, ids, a, b, y, lr, hidden, grad, logits):
    inv = _mean_features(W_in, ids, a, b, hidden)
    _softmax(logits, _scores(W_out, hidden, logits))
    loss = -np.log(max(logits[y], np.float32(1e-30)))
    for j in range(grad.shape[0]):
        grad[j] = 0.0
    for c in range(W_out.shape[0]):
        g = lr * ((np.float32(1.0) if c == y else np.float32(0.0)) - logits[c])
        _class_step(W_out, c, g, hidden, grad)
    _input_step(W_in, ids, a, b, grad, inv)
    return loss


@njit(cache=True, error_model="numpy")
def _ova_example(W_in, W_out, ids, a, b, label_ids, la, lb, lr, hidden, grad):
    """One-vs-all step: label_ids[la:lb] are the example's labels."""
    inv = _mean_features(W_in, ids, a, b, hidden)
    for j in range(grad.shape[0]):
        grad[j] = 0.0
    loss = 0.0
    for c in range(W_out.shape[0]):
        gold = False
        for q in range(la, lb):
            if label_ids[q] == c:
                gold = True
        s = np.float32(0.0)
        for j in range(hidden.shape[0]):
            s += W_out[c, j] * hidden[j]
        p = np.float32(1.0) / (np.float32(1.0) + np.exp(-s))
        if gold:
            loss -= np.log(max(p, np.float32(1e-30)))
            g = lr * (np.float32(1.0) - p)
        else:
            loss -= np.log(max(np.float32(1.0) - p, np.float32(1e-30)))
            g = -lr * p
        _class_step(W_out, c, g, hidden, grad)
    _input_step(W_in, ids, a, b, grad, inv)
    return loss


def train_epoch(W_in, W_out, ids, offsets, labels, order, lr_start, lr_end, n_threads):
    """One Hogwild softmax epoch over ``order`` (one label per example); see :func:`_epoch`."""
    ptr = np.arange(len(labels) + 1, dtype=np.int64)
    return _epoch(W_in, W_out, ids, offsets, ptr, np.asarray(labels, dtype=np.int64), False, order,
                  lr_start, lr_end, n_threads)


def train_epoch_ova(W_in, W_out, ids, offsets, label_ptr, label_ids, order, lr_start, lr_end, n_threads):
    """One Hogwild one-vs-all epoch; example e's labels are ``label_ids[label_ptr[e]:label_ptr[e + 1]]``."""
    return _epoch(W_in, W_out, ids, offsets, label_ptr, label_ids, True, order, lr_start, lr_end, n_threads)


@njit(cache=True, parallel=True)
def _epoch(W_in, W_out, ids, offsets, label_ptr, label_ids, ova, order, lr_start, lr_end, n_threads):
    """One Hogwild epoch over ``order``; thread t takes the t-th contiguous slice.

    The learning rate falls linearly from ``lr_start`` to ``lr_end`` over each thread's
    slice. Returns the summed loss.
    """
    n = order.shape[0]
    d = W_in.shape[1]
    C = W_out.shape[0]
    losses = np.zeros(n_threads, dtype=np.float64)
    for t in prange(n_threads):
        lo = (n * t) // n_threads
        hi = (n * (t + 1)) // n_threads
        hidden = np.empty(d, dtype=np.float32)
        grad = np.empty(d, dtype=np.float32)
        logits = np.empty(C, dtype=np.float32)
        span = max(hi - lo, 1)
        acc = 0.0
        for i in range(lo, hi):
            e = order[i]
            a, b = offsets[e], offsets[e + 1]
            if b == a:
                continue
            frac = (i - lo) / span
            lr = np.float32(lr_start + (lr_end - lr_start) * frac)
            if ova:
                acc += _ova_example(W_in, W_out, ids, a, b, label_ids, label_ptr[e], label_ptr[e + 1], lr, hidden, grad)
            else:
                acc += _sgd_example(W_in, W_out, ids, a, b, label_ids[label_ptr[e]], lr, hidden, grad, logits)
        losses[t] = acc
    return losses.sum()


@njit(cache=True, parallel=True)
def predict_proba(W_in, W_out, ids, offsets, ova=False):
    """(n_examples, C) class probabilities; an example without features gets softmax(0).
    ``ova``: each class's own sigmoid probability instead (they need not sum to 1)."""
    n = offsets.shape[0] - 1
    d = W_in.shape[1]
    C = W_out.shape[0]
    out = np.empty((n, C), dtype=np.float32)
    for e in prange(n):
        hidden = np.zeros(d, dtype=np.float32)
        _mean_features(W_in, ids, offsets[e], offsets[e + 1], hidden)
        row = out[e]
        mx = _scores(W_out, hidden, row)
        if ova:
            for c in range(C):
                row[c] = np.float32(1.0) / (np.float32(1.0) + np.exp(-row[c]))
        else:
            _softmax(row, mx)
    return out


# ---------------------------------------------------------------------------- early-stopping snapshot
#
# The weights of the epoch that early stopping keeps are stored as int8 with one float32
# scale per row (symmetric, round to nearest): a quarter of a float32 copy (the copy of a
# long-document model's 1.4M x 100 input matrix was 520 MiB of a 1.4 GiB peak). A restored
# element differs from the trained one by at most half a step (max|row| / 254).
# :func:`quantize_rows_reference` / :func:`dequantize_rows_reference` are the NumPy oracles.


@njit(cache=True, inline="always")
def _abs_max(v):
    m = np.float32(0.0)
    for j in range(v.shape[0]):
        a = abs(v[j])
        if a > m:
            m = a
    return m


@njit(cache=True, parallel=True)
def quantize_rows(W, q, scale):
    """q[r] = round(W[r] / scale[r]) with scale[r] = max|W[r]| / 127 (0 rows: scale 0, q 0)."""
    n, d = W.shape
    for r in prange(n):
        s = _abs_max(W[r]) / np.float32(127.0)
        scale[r] = s
        inv = np.float32(1.0) / s if s > 0 else np.float32(0.0)
        for j in range(d):
            q[r, j] = np.int8(np.rint(W[r, j] * inv))


@njit(cache=True, parallel=True)
def dequantize_rows(q, scale, W):
    """W[r] = q[r] * scale[r], in place (no float32 temporary of the whole matrix)."""
    n, d = q.shape
    for r in prange(n):
        s = scale[r]
        for j in range(d):
            W[r, j] = np.float32(q[r, j]) * s


def quantize_rows_reference(W):
    """NumPy oracle of :func:`quantize_rows`: (q int8, scale float32)."""
    W = np.asarray(W, dtype=np.float32)
    scale = (np.abs(W).max(axis=1) / np.float32(127.0)).astype(np.float32) if W.shape[1] else np.zeros(len(W), np.float32)
    inv = np.divide(np.float32(1.0), scale, out=np.zeros_like(scale), where=scale > 0)
    return np.rint(W * inv[:, None]).astype(np.int8), scale


def dequantize_rows_reference(q, scale):
    """NumPy oracle of :func:`dequantize_rows`."""
    return q.astype(np.float32) * scale[:, None]
