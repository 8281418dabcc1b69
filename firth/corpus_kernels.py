"""Numba tokenizer for ``encode_corpus``: UTF-8 bytes -> provisional word ids, no Python per token.

Splits exactly as ``str.split()`` does (every character for which ``str.isspace()`` is
true: ASCII whitespace, U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028,
U+2029, U+202F, U+205F, U+3000), with ``\\n`` ending a sentence. Words are interned in an
open-addressing hash table (FNV-1a 64) whose keys are the words' bytes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
    if c == 0xC2:
        if i + 1 < n and (data[i + 1] == 0x85 or data[i + 1] == 0xA0):
            return 2
        return 0
    if c == 0xE1:
        if i + 2 < n and data[i + 1] == 0x9A and data[i + 2] == 0x80:
            return 3
        return 0
    if c == 0xE2:
        if i + 2 < n:
            d1 = data[i + 1]
            d2 = data[i + 2]
            if d1 == 0x80 and ((0x80 <= d2 <= 0x8A) or d2 == 0xA8 or d2 == 0xA9 or d2 == 0xAF):
                return 3
            if d1 == 0x81 and d2 == 0x9F:
                return 3
        return 0
    if c == 0xE3:
        if i + 2 < n and data[i + 1] == 0x80 and data[i + 2] == 0x80:
            return 3
        return 0
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
    mask = np.uint64(size - 1)
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
        tl = j - i
        slot = np.int64(h & mask)
        while True:
            w = table[slot]
            if w < 0:
                w = nw
                start = woff[nw]
                for k in range(tl):
                    wbytes[start + k] = data[i + k]
                woff[nw + 1] = start + tl
                whash[nw] = h
                table[slot] = nw
                tabh[slot] = h
                nw += 1
                break
            if tabh[slot] == h and woff[w + 1] - woff[w] == tl:
                same = True
                s0 = woff[w]
                for k in range(tl):
                    if wbytes[s0 + k] != data[i + k]:
                        same = False
                        break
                if same:
                    break
            slot = (slot + 1) & (size - 1)
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
