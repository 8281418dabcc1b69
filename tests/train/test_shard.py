"""Byte-range shares of a corpus and the merged vocabulary (no torch, no process group)."""

from __future__ import annotations

import gzip
import lzma

import numpy as np
import pytest

from firth.errors import FirthError
from firth.train import shard
from firth.train.corpus import encode_corpus
from firth.train.shard import materialize, merge_counts, plan_shares
from firth.train.vocab import Vocab


def _piece_bytes(pc) -> bytes:
    with open(pc.path, "rb") as f:
        f.seek(pc.start)
        return f.read(pc.end - pc.start)


def _corpus_files(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    p = 1.0 / np.arange(1, 301)
    p /= p.sum()
    one_line = tmp_path / "a-text8.txt"  # one line, no trailing newline
    one_line.write_text(" ".join(rng.choice(words, 20_000, p=p)), encoding="utf-8")
    lines = tmp_path / "b-lines.txt"
    lines.write_text("\n".join(" ".join(rng.choice(words, int(rng.integers(1, 40)), p=p)) for _ in range(900)) + "\n",
                     encoding="utf-8")
    return [one_line, lines]


@pytest.mark.parametrize("world", [1, 2, 3, 8])
def test_shares_cover_every_byte_once_and_never_split_a_token(tmp_path, world, monkeypatch):
    monkeypatch.setattr(shard, "LINE_SEARCH", 256)  # longer than any line of b, far shorter than a
    files = _corpus_files(tmp_path)
    shares = plan_shares(files, world)
    assert len(shares) == world and all(shares)
    for path in files:
        pieces = [pc for s in shares for pc in s if pc.path == path]
        assert pieces[0].start == 0 and pieces[-1].end == path.stat().st_size
        assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))  # contiguous, in rank order
        data = path.read_bytes()
        assert b"".join(_piece_bytes(pc) for pc in pieces) == data
        for pc in pieces[1:]:  # every cut right after whitespace; in the line file after a line end
            assert data[pc.start - 1 : pc.start] in (b" ", b"\n")
            if path.name.startswith("b-"):
                assert data[pc.start - 1 : pc.start] == b"\n"
        tokens = [t for pc in pieces for t in _piece_bytes(pc).split()]
        assert tokens == data.split()


def test_compressed_files_go_whole_and_a_rank_without_a_share_is_refused(tmp_path):
    a = tmp_path / "a.txt.gz"
    with gzip.open(a, "wt") as f:
        f.write("the cat sat\n" * 50)
    b = tmp_path / "b.txt.xz"
    with lzma.open(b, "wt") as f:
        f.write("a dog ran\n" * 50)
    shares = plan_shares([a, b], 2)
    assert [[pc.whole for pc in s] for s in shares] == [[True], [True]]
    with pytest.raises(FirthError, match=r"rank \d of 3 would get no part.*decompress"):
        plan_shares([a, b], 3)
    with pytest.raises(FirthError, match="world size"):
        plan_shares([a], 0)


@pytest.mark.parametrize("world", [2, 3, 5])
def test_merged_vocabulary_equals_the_single_process_one(tmp_path, world, monkeypatch):
    """Ranks encode their own shares; the merge (rank order) gives the corpus' vocabulary:
    same words, same counts, same order (ties broken by first occurrence)."""
    monkeypatch.setattr(shard, "LINE_SEARCH", 64)
    files = _corpus_files(tmp_path)
    single = encode_corpus(files)
    want, _ = Vocab.from_counts(single.words, single.counts, min_count=2)
    single.close()
    per_rank = []
    for r, pieces in enumerate(plan_shares(files, world)):
        d = tmp_path / f"rank{r}"
        d.mkdir()
        enc = encode_corpus(materialize(pieces, d))
        per_rank.append((enc.words, enc.counts))
        enc.close()
    words, counts = merge_counts(per_rank)
    got, _ = Vocab.from_counts(words, counts, min_count=2)
    assert got.words == want.words
    assert np.array_equal(got.counts, want.counts)


def test_pack_and_unpack_counts_round_trip_and_mismatch_is_refused():
    blob, c = shard.pack_counts(["a", "bé", "c"], [3, 2, 1])
    assert shard.unpack_counts(blob, c, 0) == ["a", "bé", "c"]
    with pytest.raises(FirthError, match="rank 4: sent 3 words but 2 counts"):
        shard.unpack_counts(blob, c[:2], 4)
    assert shard.unpack_counts(b"", np.zeros(0, np.int64), 0) == []
