"""Numba kernels for word2vec training (skip-gram / CBOW with negative sampling).

Every kernel processes a *job*: a range of sentences ``[s0, s1)`` of an encoded corpus
(``ids`` int32, ``offsets`` int64), for one epoch, in one thread, with the GIL released
(``nogil=True``), so several Python threads can train the same float32 matrices at once
(Hogwild). Nothing in here allocates per sentence or calls back into Python.

Randomness is word2vec.c's 64-bit linear congruential generator
``r = r * 25214903917 + 11 (mod 2**64)``, seeded per job from (seed, epoch, job) by
``job_seed``. The draws are taken in a fixed order, which ``reference.py`` reproduces
exactly (it is the readable oracle of these kernels):

* per token, when its keep-probability is < 1: one draw, kept iff
  ``keep[w] >= ((r >> 24) & 0xFFFFFF) / 2**24`` (subsampling happens before windowing);
* per position: one draw, reduced window ``b = window - (r >> 16) % window`` (1..window);
* per negative: one draw, an alias-table sample (``noise_sample``).

Updates follow word2vec.c: skip-gram predicts the centre word from each context word
(``syn0[context]`` is the input row); CBOW predicts it from the sum or mean of the context
rows and adds the hidden-layer gradient to every context row (for the mean, word2vec.c and
gensim do not divide it by the window size; neither do we). A negative equal to the
positive word is skipped. The sigmoid and the loss (the negative log-likelihood
``softplus(-f)`` / ``softplus(f)``, summed in float64) come from tables on [-8, 8] read with
linear interpolation (within 2e-6 of the exact functions; exact formulas outside).

``tied`` training passes the same array as ``syn0`` and ``syn1``.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_MUL = np.uint64(25214903917)
_ADD = np.uint64(11)
_INV24 = np.float32(1.0 / 16777216.0)
MASK64 = (1 << 64) - 1


@intrinsic
def _prefetch(typingctx, arr, row, col):
    """Hint the CPU to load the cache line holding ``arr[row, col]`` (LLVM's llvm.prefetch;
    no effect on results). No bounds check: callers pass valid indices."""
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        aryty, rowty, colty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, args[1], rowty, types.intp), context.cast(builder, args[2], colty, types.intp)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch")  # unmangled: LLVM upgrades it to its own pointer mangling
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])  # read, keep in all caches, data
        return context.get_dummy_value()

    return sig, codegen


@njit(nogil=True, cache=True, inline="always")
def prefetch_row(a, row):
    """Prefetch every 64-byte line of the float32 row ``a[row]``.

    Why: fastText's subword rows are random rows of an 800 MB bucket matrix; loading the
    next centre word's rows while the current one trains hides most of the memory latency
    (4x on a random-gather test; see benchmarks/RESULTS.md for the training figure).
    """
    dim = a.shape[1]
    for k in range(0, dim, 16):
        _prefetch(a, row, k)
    _prefetch(a, row, dim - 1)


@njit(nogil=True, cache=True, inline="always")
def lcg(r):
    return r * _MUL + _ADD


@njit(nogil=True, cache=True, inline="always")
def uniform24(r):
    """A float32 in [0, 1) from bits 24..47 of the generator state."""
    return np.float32((r >> np.uint64(24)) & np.uint64(0xFFFFFF)) * _INV24


@njit(nogil=True, cache=True, inline="always")
def noise_sample(r, prob, alias):
    """Alias-table draw: column from the top 32 bits, coin from bits 8..31."""
    n = np.uint64(prob.shape[0])
    k = np.int64(((r >> np.uint64(32)) * n) >> np.uint64(32))
    coin = np.float32((r >> np.uint64(8)) & np.uint64(0xFFFFFF)) * _INV24
    if coin < prob[k]:
        return k
    return np.int64(alias[k])


def job_seed(seed: int, epoch: int, job: int) -> int:
    """Deterministic 64-bit seed of one job (splitmix64 of seed, epoch, job): never hash()."""
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(epoch) * 0xBF58476D1CE4E5B9 + int(job) * 0x94D049BB133111EB + 1) & MASK64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    x ^= x >> 31
    return x or 1


@njit(nogil=True, cache=True)
def build_alias(p):
    """Vose's alias table for probabilities ``p`` (sums to 1): (prob float32, alias int32)."""
    n = p.shape[0]
    prob = np.zeros(n, np.float32)
    alias = np.arange(n).astype(np.int32)
    scaled = p * n
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    for i in range(nl):
        prob[large[i]] = 1.0
    for i in range(ns):
        prob[small[i]] = 1.0
    return prob, alias


@njit(nogil=True, cache=True)
def sample_noise_many(prob, alias, seed, n):
    """``n`` successive noise draws from one generator (for testing the sampler)."""
    out = np.empty(n, np.int32)
    r = np.uint64(seed)
    for i in range(n):
        r = lcg(r)
        out[i] = noise_sample(r, prob, alias)
    return out


@njit(nogil=True, cache=True)
def compact_remap(ids, offsets, mapping, new_offsets, s0, s1, w):
    """In place, for sentences [s0, s1): ids[k] <- mapping[ids[k]], dropping -1, written from
    position ``w`` (the count so far); returns the new count. ``new_offsets[s0]`` must hold ``w``."""
    for s in range(s0, s1):
        for k in range(offsets[s], offsets[s + 1]):
            m = mapping[ids[k]]
            if m >= 0:
                ids[w] = m
                w += 1
        new_offsets[s + 1] = w
    return w


# Sigmoid and softplus tables on [-8, 8], 128 steps per unit, read with linear
# interpolation: error < 2e-6 against the exact functions (so the exact reference stays
# the oracle), at a fraction of the cost of exp + log1p per example. Outside the range the
# exact formulas are used.
_TMAX = 8.0
_TSCALE = 128.0
_TX = np.linspace(-_TMAX, _TMAX, int(2 * _TMAX * _TSCALE) + 1)
SIG_TABLE = (1.0 / (1.0 + np.exp(-_TX))).astype(np.float32)
SOFTPLUS_NEG_TABLE = np.log1p(np.exp(-_TX)).astype(np.float32)  # softplus(-x) = -log sigmoid(x)


@njit(nogil=True, cache=True, inline="always")
def _sig_loss_exact(f, label):
    af = abs(f)
    e = math.exp(-af)
    if f >= 0:
        s = 1.0 / (1.0 + e)
    else:
        s = e / (1.0 + e)
    if label:
        loss = max(-f, 0.0) + math.log1p(e)
    else:
        loss = max(f, 0.0) + math.log1p(e)
    return np.float32(s), loss


@njit(nogil=True, cache=True, inline="always")
def _sig_loss(f, label):
    """(sigmoid(f), loss) for label 1 (positive: softplus(-f)) or 0 (negative: softplus(f))."""
    if f > -_TMAX and f < _TMAX:
        x = (f + np.float32(_TMAX)) * np.float32(_TSCALE)
        i = np.int64(x)
        fr = x - np.float32(i)
        s = SIG_TABLE[i] + fr * (SIG_TABLE[i + 1] - SIG_TABLE[i])
        sp = SOFTPLUS_NEG_TABLE[i] + fr * (SOFTPLUS_NEG_TABLE[i + 1] - SOFTPLUS_NEG_TABLE[i])
        if label:
            return s, np.float64(sp)
        return s, np.float64(sp) + np.float64(f)  # softplus(f) = softplus(-f) + f
    return _sig_loss_exact(f, label)


@njit(nogil=True, cache=True)
def sig_loss_many(fs, label):
    """The kernels' sigmoid and loss on an array (for testing the tables)."""
    s = np.empty(fs.shape[0], np.float32)
    l = np.empty(fs.shape[0], np.float64)
    for i in range(fs.shape[0]):
        s[i], l[i] = _sig_loss(fs[i], label)
    return s, l


@njit(nogil=True, cache=True, inline="always")
def _fill_sentence(ids, a, b, keep, buf, r):
    n = 0
    for k in range(a, b):
        w = ids[k]
        kp = keep[w]
        if kp < 1.0:
            r = lcg(r)
            if kp < uniform24(r):
                continue
        buf[n] = w
        n += 1
    return n, r


@njit(nogil=True, fastmath=True, cache=True)
def job_extent(offsets, s0, s1):
    """Words in sentences s0..s1 (for the lr schedule) and the longest one (buffer size)."""
    maxlen = 0
    total = 0
    for s in range(s0, s1):
        L = offsets[s + 1] - offsets[s]
        total += L
        if L > maxlen:
            maxlen = L
    return total, maxlen


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_pairs(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, classic word2vec.c per-pair updates. Returns (loss, words, pairs)."""
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    neu1e = np.zeros(dim, np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    pairs = 0
    done = 0
    for s in range(s0, s1):
        a = offsets[s]
        b = offsets[s + 1]
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1)))
        done += b - a
        n, r = _fill_sentence(ids, a, b, keep, buf, r)
        for i in range(n):
            w = buf[i]
            r = lcg(r)
            bw = window - np.int64((r >> np.uint64(16)) % uw)
            lo = max(0, i - bw)
            hi = min(n, i + bw + 1)
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    neu1e[k] = 0.0
                for d in range(negative + 1):
                    if d == 0:
                        t = w
                        label = 1
                    else:
                        r = lcg(r)
                        t = noise_sample(r, prob, alias)
                        if t == w:
                            continue
                        label = 0
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += syn0[c, k] * syn1[t, k]
                    sg, ls = _sig_loss(f, label)
                    loss += ls
                    g = np.float32((label - sg) * alpha)
                    for k in range(dim):  # one pass: neu1e from the old row, then update it
                        neu1e[k] += g * syn1[t, k]
                        syn1[t, k] += g * syn0[c, k]
                for k in range(dim):
                    syn0[c, k] += neu1e[k]
                pairs += 1
    return loss, total, pairs


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_batch(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, "HogBatch" (Ji et al. 2016): a window's context words share negatives.

    For centre word w with context rows C (|C| <= 2*window) and targets T = (w, n_1..n_k),
    the scores C·Tᵀ, the input gradients G·T and the output gradients Gᵀ·C are small dense
    products computed from the values before the update, then applied.
    Returns (loss, words, pairs).
    """
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    nt_max = negative + 1
    nc_max = 2 * window
    ctx = np.empty(nc_max, np.int64)
    tgt = np.empty(nt_max, np.int64)
    lab = np.empty(nt_max, np.float32)
    G = np.empty((nc_max, nt_max), np.float32)
    gin = np.empty((nc_max, dim), np.float32)
    gout = np.empty((nt_max, dim), np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    pairs = 0
    done = 0
    for s in range(s0, s1):
        a = offsets[s]
        b = offsets[s + 1]
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1)))
        done += b - a
        n, r = _fill_sentence(ids, a, b, keep, buf, r)
        for i in range(n):
            w = buf[i]
            r = lcg(r)
            bw = window - np.int64((r >> np.uint64(16)) % uw)
            lo = max(0, i - bw)
            hi = min(n, i + bw + 1)
            nc = 0
            for j in range(lo, hi):
                if j != i:
                    ctx[nc] = buf[j]
                    nc += 1
            if nc == 0:
                continue
            tgt[0] = w
            lab[0] = 1.0
            nt = 1
            for d in range(negative):
                r = lcg(r)
                t = noise_sample(r, prob, alias)
                if t != w:
                    tgt[nt] = t
                    lab[nt] = 0.0
                    nt += 1
            # scores, gradient coefficients and both gradients, all from the values
            # before this window's update: per context row p, its dots with the shared
            # targets, then gin[p] += G[p, q] * syn1[t_q] and gout[q] += G[p, q] * syn0[c_p]
            for q in range(nt):
                for k in range(dim):
                    gout[q, k] = 0.0
            for p in range(nc):
                c = ctx[p]
                for q in range(nt):
                    t = tgt[q]
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += syn0[c, k] * syn1[t, k]
                    sg, ls = _sig_loss(f, lab[q] > 0.5)
                    loss += ls
                    G[p, q] = np.float32((lab[q] - sg) * alpha)
                for k in range(dim):
                    gin[p, k] = 0.0
                for q in range(nt):
                    g = G[p, q]
                    t = tgt[q]
                    for k in range(dim):
                        gin[p, k] += g * syn1[t, k]
                        gout[q, k] += g * syn0[c, k]
            for q in range(nt):
                t = tgt[q]
                for k in range(dim):
                    syn1[t, k] += gout[q, k]
            for p in range(nc):
                c = ctx[p]
                for k in range(dim):
                    syn0[c, k] += gin[p, k]
            pairs += nc
    return loss, total, pairs


@njit(nogil=True, fastmath=True, cache=True)
def train_cbow(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed, cbow_mean):
    """CBOW with negative sampling (context mean or sum). Returns (loss, words, examples)."""
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    neu1 = np.zeros(dim, np.float32)
    neu1e = np.zeros(dim, np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    examples = 0
    done = 0
    for s in range(s0, s1):
        a = offsets[s]
        b = offsets[s + 1]
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1)))
        done += b - a
        n, r = _fill_sentence(ids, a, b, keep, buf, r)
        for i in range(n):
            w = buf[i]
            r = lcg(r)
            bw = window - np.int64((r >> np.uint64(16)) % uw)
            lo = max(0, i - bw)
            hi = min(n, i + bw + 1)
            for k in range(dim):
                neu1[k] = 0.0
                neu1e[k] = 0.0
            cw = 0
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    neu1[k] += syn0[c, k]
                cw += 1
            if cw == 0:
                continue
            if cbow_mean:
                inv = np.float32(1.0 / cw)
                for k in range(dim):
                    neu1[k] *= inv
            for d in range(negative + 1):
                if d == 0:
                    t = w
                    label = 1
                else:
                    r = lcg(r)
                    t = noise_sample(r, prob, alias)
                    if t == w:
                        continue
                    label = 0
                f = np.float32(0.0)
                for k in range(dim):
                    f += neu1[k] * syn1[t, k]
                sg, ls = _sig_loss(f, label)
                loss += ls
                g = np.float32((label - sg) * alpha)
                for k in range(dim):
                    neu1e[k] += g * syn1[t, k]
                    syn1[t, k] += g * neu1[k]
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    syn0[c, k] += neu1e[k]
            examples += 1
    return loss, total, examples
