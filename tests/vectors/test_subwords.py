"""Subwords and hashing: firth's n-grams and bucket ids equal Facebook fastText's."""

from __future__ import annotations

from firth.vectors.subwords import (
    fnv1a_hash,
    fnv1a_hash_numba,
    ngram_hashes,
    ngrams,
    subword_rows,
    subword_table,
)
from tests.vectors.test_fasttext_fixtures import trained_model


def test_ngrams_of_where():
    assert ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]


def test_ngrams_repeat_and_whole_word():
    g = ngrams("banana", 3, 6)
    assert g.count("ana") == 2  # a list with repeats
    assert "<banana>" not in g  # 8 characters > maxn
    assert "<the>" in ngrams("the", 3, 6)  # <word> itself when its length <= maxn
    assert ngrams("</s>", 3, 6) == []
    assert ngrams("ab", 5, 6) == []  # too short: no n-gram at all
    assert ngrams("a", 1, 1) == ["a"]  # lone < and > are never n-grams


def test_ngrams_over_unicode_characters():
    g = ngrams("日本語", 3, 3)
    assert g == ["<日本", "日本語", "本語>"]
    assert all(len(x) == 3 for x in ngrams("naïve", 3, 3))


def test_fnv1a_known_values_and_signed_bytes():
    # FNV-1a of the empty string is the offset basis; of "a" the standard 32-bit value
    assert fnv1a_hash("") == 2166136261
    assert fnv1a_hash("a") == 0xE40C292C
    # a byte >= 0x80 is XORed in sign-extended (Facebook's int8_t cast): differs from plain FNV-1a
    plain = 2166136261
    for b in "é".encode():
        plain = ((plain ^ b) * 16777619) & 0xFFFFFFFF
    assert fnv1a_hash("é") != plain
    for w in ["", "a", "é", "naïve", "日本語", "<where>"]:
        assert fnv1a_hash_numba(w) == fnv1a_hash(w)


def test_numba_table_equals_plain_python():
    words = ["the", "banana", "naïve", "日本語", "</s>", "x", "unfriendliest", "ab"]
    for minn, maxn, bucket in [(3, 6, 2_000_000), (1, 3, 1000), (2, 2, 7), (3, 6, 0), (0, 0, 100)]:
        offsets, rows = subword_table(words, minn, maxn, bucket)
        for k, w in enumerate(words):
            want = subword_rows(w, k, len(words), minn, maxn, bucket) if bucket else [k]
            assert rows[offsets[k] : offsets[k + 1]].tolist() == want, (w, minn, maxn, bucket)
        o2, ids = subword_table(words, minn, maxn, bucket, include_word=False, base=0)
        for k, w in enumerate(words):
            assert ids[o2[k] : o2[k + 1]].tolist() == ngram_hashes(w, minn, maxn, bucket)


def test_ids_equal_facebook(tmp_path_factory):
    ft, _path = trained_model(tmp_path_factory)
    words = ft.words
    nwords = len(words)
    bucket = ft.f.getArgs().bucket
    offsets, rows = subword_table(words, 3, 6, bucket)
    for k, w in enumerate(words):
        sub, ids = ft.get_subwords(w)
        assert rows[offsets[k] : offsets[k + 1]].tolist() == list(ids), w
    for w in ["unfriendliest", "naïve", "日本語", "zq", "x", "Straße"]:
        sub, ids = ft.get_subwords(w)
        assert ngrams(w, 3, 6) == list(sub)
        assert subword_rows(w, None, nwords, 3, 6, bucket) == list(ids)
