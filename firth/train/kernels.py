"""Numba code shared by training: the corpus tokenizer, random numbers, sampling tables, the sigmoid.

* the tokenizer for ``encode_corpus`` (UTF-8 bytes -> provisional word ids, no Python per
  token) and its word table (``Interner``), and ``compact_remap`` (pruning the encoded ids);
* word2vec.c's 64-bit linear congruential generator ``r = r * 25214903917 + 11 (mod 2**64)``
  (``lcg``, ``uniform24``), ``job_seed`` (one job's seed from seed, epoch, job);
* alias tables for the noise distribution (``build_alias``, ``noise_sample``);
* the sigmoid / loss tables (``_sig_loss``), a sentence's subsampled ids (``_fill_sentence``),
  a job's extent (``job_extent``) and the cache prefetch hint (``prefetch_row``);
* the training step written once, for the word2vec and fastText kernels in
  ``firth.train.word2vec.kernels`` / ``firth.train.fasttext.kernels``: their grouped
  parameters (``Sentences``, ``Job``, ``Sampling``), the job's buffers (``job_start``), a
  sentence's learning rate and subsampled ids (``sentence``), the reduced window
  (``reduced_window``), a negative-sampling target (``ns_target``) and the negative-sampling
  update (``ns_step``). They are inlined into each kernel (``inline="always"``: Numba
  splices their IR into the caller before compiling it), so a kernel compiles to the code
  it had when they were written out in it. Two conditions keep it so (checked by counting
  ``NRT_incref`` calls in the kernels' LLVM IR, see benchmarks/ab_kernels.py): the kernels
  use ``error_model="numpy"`` (no ZeroDivisionError branches: with them, LLVM could not
  remove the reference counting of the arrays passed to an inlined helper, an atomic add
  per pair that cost 4-8%), and a helper's array arguments do not cross a branch of the
  caller (``ns_step`` zeroes its ``grad`` itself).

The tokenizer splits exactly as ``str.split()`` does (every character for which
``str.isspace()`` is true: ASCII whitespace, U+001C..U+001F, U+0085, U+00A0, U+1680,
U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), with ``\\n`` ending a sentence. Words
are interned in an open-addressing hash table (FNV-1a 64) whose keys are the words' bytes.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# byte classes: 0 part of a token, 1 ASCII whitespace, 2 newline, 3 may start a multi-byte space
_CLASS = np.zeros(256, np.uint8)
for _c in (9, 11, 12, 13, 28, 29, 30, 31, 32):
    _CLASS[_c] = 1
_CLASS[10] = 2
for _c in (0xC2, 0xE1, 0xE2, 0xE3):
    _CLASS[_c] = 3
BYTE_CLASS = _CLASS

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@njit(nogil=True, cache=True, inline="always")
def _ws_len(data, i, n):
    """Byte length of the whitespace character starting at data[i], 0 if it is not one."""
    c = data[i]
    if c < 0x80:
        if c == 32 or (9 <= c <= 13) or (28 <= c <= 31):
            return 1
        return 0
    if c == 0xC2:  # U+0085, U+00A0
        return 2 if i + 1 < n and (data[i + 1] == 0x85 or data[i + 1] == 0xA0) else 0
    if c == 0xE1:  # U+1680
        return 3 if i + 2 < n and data[i + 1] == 0x9A and data[i + 2] == 0x80 else 0
    if c == 0xE2:
        if i + 2 < n:
            d1 = data[i + 1]
            d2 = data[i + 2]
            if d1 == 0x80 and ((0x80 <= d2 <= 0x8A) or d2 == 0xA8 or d2 == 0xA9 or d2 == 0xAF):
                return 3
            if d1 == 0x81 and d2 == 0x9F:
                return 3
        return 0
    if c == 0xE3:  # U+3000
        return 3 if i + 2 < n and data[i + 1] == 0x80 and data[i + 2] == 0x80 else 0
    return 0


@njit(nogil=True, cache=True)
def rehash(whash, nw, size):
    table = np.full(size, -1, np.int32)
    tabh = np.zeros(size, np.uint64)
    mask = np.uint64(size - 1)
    for w in range(nw):
        slot = np.int64(whash[w] & mask)
        while table[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        table[slot] = w
        tabh[slot] = whash[w]
    return table, tabh


@njit(nogil=True, cache=True, inline="always")
def _token_end(data, i, n):
    """The end of the token starting at data[i] (the next whitespace or n) and its FNV-1a hash."""
    j = i
    h = _FNV_OFFSET
    while j < n:
        cj = data[j]
        kj = BYTE_CLASS[cj]
        if kj != 0:
            if kj != 3 or _ws_len(data, j, n) > 0:
                break
        h = (h ^ np.uint64(cj)) * _FNV_PRIME
        j += 1
    return j, h


@njit(nogil=True, cache=True, inline="always")
def _intern(data, i, tl, h, table, tabh, whash, wbytes, woff, nw):
    """The id of the word data[i:i+tl] (hash h): found by linear probing, or added as word nw.
    Returns (id, number of words)."""
    size = table.shape[0]
    slot = np.int64(h & np.uint64(size - 1))
    while True:
        w = table[slot]
        if w < 0:
            start = woff[nw]
            for k in range(tl):
                wbytes[start + k] = data[i + k]
            woff[nw + 1] = start + tl
            whash[nw] = h
            table[slot] = nw
            tabh[slot] = h
            return nw, nw + 1
        if tabh[slot] == h and woff[w + 1] - woff[w] == tl:
            same = True
            s0 = woff[w]
            for k in range(tl):
                if wbytes[s0 + k] != data[i + k]:
                    same = False
                    break
            if same:
                return w, nw
        slot = (slot + 1) & (size - 1)


@njit(nogil=True, cache=True)
def tokenize(data, pos, table, tabh, whash, wbytes, woff, nw, ids, nid, bounds, nb, state, limit):
    """Tokenize data[pos:], appending ids and sentence boundaries.

    state[0]: tokens in the current sentence; state[1]: global index of the next token.
    Stops early (returning its position) when the table is half full or the word storage
    could overflow, so the caller can grow them and call again.
    Returns (pos, nid, nb, nw).
    """
    n = data.shape[0]
    size = table.shape[0]
    cur = state[0]
    g = state[1]
    i = pos
    while i < n:
        if nw * 2 >= size or woff[nw] + (n - i) > wbytes.shape[0] or nw + 2 >= woff.shape[0]:
            break
        c = data[i]
        k0 = BYTE_CLASS[c]
        if k0 == 2:
            if cur > 0:
                bounds[nb] = g
                nb += 1
                cur = 0
            i += 1
            continue
        if k0 == 1:
            i += 1
            continue
        if k0 == 3:
            L = _ws_len(data, i, n)
            if L > 0:
                i += L
                continue
        j, h = _token_end(data, i, n)
        w, nw = _intern(data, i, j - i, h, table, tabh, whash, wbytes, woff, nw)
        ids[nid] = w
        nid += 1
        g += 1
        cur += 1
        if cur >= limit:
            bounds[nb] = g
            nb += 1
            cur = 0
        i = j
    state[0] = cur
    state[1] = g
    return i, nid, nb, nw


class Interner:
    """Growable word table for ``tokenize`` (bytes -> id in first-occurrence order)."""

    def __init__(self):
        self.table = np.full(1 << 16, -1, np.int32)
        self.tabh = np.zeros(1 << 16, np.uint64)
        self.whash = np.zeros(1 << 15, np.uint64)
        self.woff = np.zeros(1 << 15, np.int64)
        self.wbytes = np.zeros(1 << 20, np.uint8)
        self.nw = 0

    def grow(self, need_bytes: int):
        if self.nw * 2 >= len(self.table):
            self.table, self.tabh = rehash(self.whash, self.nw, len(self.table) * 2)
        if self.nw + 2 >= len(self.woff):
            self.woff = np.concatenate([self.woff, np.zeros(len(self.woff), np.int64)])
            self.whash = np.concatenate([self.whash, np.zeros(len(self.whash), np.uint64)])
        used = int(self.woff[self.nw])
        if used + need_bytes > len(self.wbytes):
            new = np.zeros(max(2 * len(self.wbytes), used + need_bytes), np.uint8)
            new[:used] = self.wbytes[:used]
            self.wbytes = new

    def words(self) -> list[str]:
        wb = self.wbytes[: int(self.woff[self.nw])].tobytes()
        off = self.woff[: self.nw + 1].tolist()
        return [wb[off[i] : off[i + 1]].decode("utf-8") for i in range(self.nw)]


# --------------------------------------------------------------------------- random numbers, noise, sigmoid

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


@njit(nogil=True, cache=True, inline="always")
def _push_alias(i, scaled, small, large, ns, nl):
    """Vose's method: word i onto the small (scaled < 1) or the large stack. Returns (ns, nl)."""
    if scaled[i] < 1.0:
        small[ns] = i
        return ns + 1, nl
    large[nl] = i
    return ns, nl + 1


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
        ns, nl = _push_alias(i, scaled, small, large, ns, nl)
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        ns, nl = _push_alias(g, scaled, small, large, ns, nl)
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



# --------------------------------------------------------------------------- the training step, once
#
# A kernel's parameters, grouped (Numba passes a namedtuple as a typed tuple; reading a field
# costs nothing):

Sentences = namedtuple("Sentences", "ids offsets")
Sentences.__doc__ = "An encoded corpus: sentence s is ``ids[offsets[s]:offsets[s + 1]]`` (int32 ids, int64 offsets)."
Job = namedtuple("Job", "s0 s1 alpha0 alpha1 seed")
Job.__doc__ = ("One job: sentences [s0, s1), the learning rate falling linearly from alpha0 to alpha1 over "
               "their words, the generator's seed (np.uint64, from ``job_seed``).")
Sampling = namedtuple("Sampling", "keep prob alias window negative")
Sampling.__doc__ = ("What the random draws use: per-word keep probabilities (subsampling), the noise alias "
                    "table (prob, alias), the window and the number of negatives.")


@njit(nogil=True, cache=True, inline="always")
def job_start(sents, job):
    """A job's words (for the lr schedule), a buffer for its longest sentence, its generator."""
    total, maxlen = job_extent(sents.offsets, job.s0, job.s1)
    return total, np.empty(maxlen, np.int32), np.uint64(job.seed)


@njit(nogil=True, cache=True, inline="always")
def sentence(sents, s, job, total, keep, buf, r):
    """Sentence s: its learning rate (linear in the job's words before it, as float32) and its
    subsampled ids in ``buf``. Returns (n, alpha, r)."""
    a = sents.offsets[s]
    done = a - sents.offsets[job.s0]
    alpha = np.float32(job.alpha0 + (job.alpha1 - job.alpha0) * (done / max(total, 1)))
    n, r = _fill_sentence(sents.ids, a, sents.offsets[s + 1], keep, buf, r)
    return n, alpha, r


@njit(nogil=True, cache=True, inline="always")
def reduced_window(i, n, window, r):
    """Position i of a sentence of n words: one draw, window ``b = window - (r >> 16) % window``.
    Returns (lo, hi, r): the context is positions lo..hi-1 but i."""
    r = lcg(r)
    bw = window - np.int64((r >> np.uint64(16)) % np.uint64(window))
    return max(0, i - bw), min(n, i + bw + 1), r


@njit(nogil=True, cache=True, inline="always")
def ns_target(d, positive, r, prob, alias):
    """Target d of a negative-sampling example: d == 0 the positive word (label 1), else one
    noise draw (label 0), or -1 (skip it) when the draw is the positive word. Returns (t, label, r)."""
    if d == 0:
        return positive, 1, r
    r = lcg(r)
    t = noise_sample(r, prob, alias)
    if t == positive:
        return -1, 0, r
    return t, 0, r


@njit(nogil=True, cache=True, inline="always")
def zero(v):
    for k in range(v.shape[0]):
        v[k] = 0.0


@njit(nogil=True, cache=True, inline="always")
def ns_step(h, positive, syn1, sampling, alpha, grad, loss, r):
    """One negative-sampling example: the input vector ``h`` scored against ``positive`` (label
    1) and ``sampling.negative`` noise draws (label 0). Each target's ``syn1`` row moves by
    ``g * h`` and ``grad`` (set to zero first) gains ``g * row`` (from the row before its
    update), with ``g = alpha * (label - sigmoid(h . row))``. Returns (loss + this example's
    loss, r): the running loss goes in and out so that it sums in the same order as
    word2vec.c's loop."""
    dim = h.shape[0]
    zero(grad)
    for d in range(sampling.negative + 1):
        t, label, r = ns_target(d, positive, r, sampling.prob, sampling.alias)
        if t < 0:
            continue
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * syn1[t, k]
        sg, ls = _sig_loss(f, label)
        loss += ls
        g = np.float32((label - sg) * alpha)
        for k in range(dim):  # one pass: grad from the old row, then update it
            grad[k] += g * syn1[t, k]
            syn1[t, k] += g * h[k]
    return loss, r


@njit(nogil=True, cache=True, inline="always")
def scale_by(v, x):
    """v *= x."""
    for k in range(v.shape[0]):
        v[k] *= x


@njit(nogil=True, cache=True, inline="always")
def add_to_row(m, row, v):
    """m[row] += v."""
    for k in range(v.shape[0]):
        m[row, k] += v[k]


@njit(nogil=True, cache=True, inline="always")
def add_to_rows(m, rows, a, b, v):
    """m[rows[p]] += v for p in a..b-1 (a repeated row gets v again)."""
    for p in range(a, b):
        add_to_row(m, rows[p], v)


@njit(nogil=True, cache=True, inline="always")
def add_row(v, m, row):
    """v += m[row]."""
    for k in range(v.shape[0]):
        v[k] += m[row, k]


@njit(nogil=True, cache=True, inline="always")
def add_rows(v, m, rows, a, b):
    """v += m[rows[p]] for p in a..b-1."""
    for p in range(a, b):
        add_row(v, m, rows[p])
