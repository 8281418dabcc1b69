"""Issue 13, vector files: hostile or damaged files are one-line errors, never a crash, a
runaway allocation or silently wrong data; non-UTF-8 fastText words work everywhere."""

import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from firth.cli import main
from firth.errors import FirthError
from firth.vectors import KeyedVectors, load_vectors
from firth.vectors.formats.fasttext_bin import write_fasttext_bin

WORDS = ["the", "cat", "sat", "on", "mat", "dog"]


@pytest.fixture
def kv():
    rng = np.random.RandomState(1)
    return KeyedVectors(WORDS, rng.randn(len(WORDS), 3).astype(np.float32))


def _rezip(src, dst, replace: dict, compress=()):
    """Copy a native archive, replacing members (name -> bytes), some deflated."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        names = zin.namelist() + [n for n in replace if n not in zin.namelist()]
        for name in names:
            data = replace.get(name, zin.read(name) if name in zin.namelist() else b"")
            kind = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            zout.writestr(zipfile.ZipInfo(name), data, compress_type=kind)


def _npy_with_shape(shape):
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + b"\0" * 64


def _cases(tmp_path, kv):
    kv.save(tmp_path / "ok.firth")
    kv.save(tmp_path / "ok.txt", format="word2vec-text")
    kv.save(tmp_path / "ok.bin", format="word2vec-binary")
    ok = tmp_path / "ok.firth"
    text = (tmp_path / "ok.txt").read_text().splitlines()

    def native(**members):
        def make(p):
            _rezip(ok, p, {k.replace("_", "."): v for k, v in members.items()}, compress={"words.txt"})
        return make

    def txt(lines):
        return lambda p: p.write_text("\n".join(lines) + "\n")

    def nan_text(p):
        p.write_text("\n".join(text[:3] + ["sat nan 1 2", "on 1 inf 2"] + text[5:]) + "\n")

    return [
        # zip bomb: words.txt expands to 64 MiB (the 1 GiB file took 2.1 GB of memory)
        ("bomb", native(words_txt=b"a" * (64 << 20)), r"words.txt declares \d+ bytes, more than"),
        ("npy 2**62 rows", native(vectors_npy=_npy_with_shape((2**62, 4))), r"array of shape|needs"),
        ("npy wrong rank", native(vectors_npy=_npy_with_shape((6,))), r"array of shape \(6,\)"),
        ("firth.json list", native(firth_json=b"[1, 2]"), "firth.json is a JSON list"),
        ("firth.json n_words", native(firth_json=json.dumps({"format": "firth-vectors", "n_words": 10**15}).encode()),
         "n_words"),
        ("binary 10**12 rows", lambda p: p.write_bytes(b"1000000000000 3\n" + (tmp_path / "ok.bin").read_bytes()[4:]),
         "header promises 1000000000000 vectors"),
        ("text header too small", txt(["2 3"] + text[1:]), "header says 2 vectors but the file has more"),
        ("text header dim", txt(["6 4"] + text[1:]), "line 2: expected a word and 4 values, found 3"),
        ("short first row", txt([text[0], "the 0.1 0.2"] + text[2:]), "line 2: expected a word and 3 values, found 2"),
        ("NaN rows", nan_text, r"the vector of 'sat' holds NaN or infinity \(2 such words\)"),
        ("xz garbage", lambda p: p.write_bytes(b"\xfd7zXZ\x00" + b"\x01" * 50), "corrupt compressed data"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_hostile_vector_files_are_one_line_errors(tmp_path, kv, capsys, case):
    name, make, message = _cases(tmp_path, kv)[case]
    bad = tmp_path / "bad"
    make(bad)
    t0 = time.perf_counter()
    with pytest.raises(FirthError, match=message):
        load_vectors(bad)
    rc = main(["info", str(bad)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("firth: error:") and err.count("\n") == 1, (name, err)
    assert time.perf_counter() - t0 < 10, name


def test_zip_bomb_memory_is_bounded(tmp_path, kv):
    kv.save(tmp_path / "ok.firth")
    _rezip(tmp_path / "ok.firth", tmp_path / "bomb.firth", {"words.txt": b"w\n" * (128 << 20)}, {"words.txt"})
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (pytest)
    code = ("import sys\nfrom firth.cli import main\nrc = main(['info', sys.argv[1]])\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "bomb.firth")], capture_output=True, text=True)
    assert "declares" in r.stderr and int(r.stdout.split()[-1]) < 400_000  # KiB: far below the 256 MiB member


def test_nonfinite_rows_can_be_dropped_explicitly(tmp_path, kv):
    v = kv.vectors.copy()
    v[2, 1] = np.nan
    KeyedVectors(WORDS, v).save(tmp_path / "nan.txt", format="word2vec-text")
    with pytest.warns(UserWarning, match="left out 1 words"):
        got = load_vectors(tmp_path / "nan.txt", nonfinite="drop")
    assert got.index_to_key == [w for w in WORDS if w != "sat"]
    np.testing.assert_array_equal(got["mat"], kv["mat"])


def test_text_header_is_checked_but_limit_still_reads_a_prefix(tmp_path, kv):
    kv.save(tmp_path / "v.txt", format="word2vec-text")
    assert load_vectors(tmp_path / "v.txt", limit=2).index_to_key == WORDS[:2]


def test_fasttext_bin_with_non_utf8_word_works_everywhere(tmp_path, capsysbinary):
    """fastText writes words as raw bytes; firth keeps them as bytes (surrogateescape)."""
    rng = np.random.RandomState(0)
    words = ["the", b"caf\xe9".decode("utf-8", "surrogateescape"), "cat"]
    write_fasttext_bin(tmp_path / "m.bin", words, [5, 4, 3], rng.randn(3, 4).astype(np.float32),
                       rng.randn(20, 4).astype(np.float32), 2, 3)
    raw = (tmp_path / "m.bin").read_bytes()
    assert b"caf\xe9\x00" in raw
    kv = load_vectors(tmp_path / "m.bin")
    assert kv.index_to_key[1] == words[1]
    assert main(["info", str(tmp_path / "m.bin")]) == 0
    assert main(["similar", str(tmp_path / "m.bin"), "the"]) == 0
    assert b"caf\xe9" in capsysbinary.readouterr().out  # printed as the bytes fastText prints
    for fmt, name in (("native", "c.firth"), ("word2vec-text", "c.txt"), ("word2vec-binary", "c.bin"),
                      ("fasttext-bin", "c2.bin")):
        assert main(["convert", str(tmp_path / "m.bin"), str(tmp_path / name), "--format", fmt]) == 0
        if fmt != "word2vec-text":
            # word2vec files are UTF-8 by convention: raw bytes are read back when asked for
            back = load_vectors(tmp_path / name, unicode_errors="surrogateescape" if fmt == "word2vec-binary" else "strict")
            assert back.index_to_key == kv.index_to_key
            np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-6)
    assert b"caf\xe9 " in (tmp_path / "c.txt").read_bytes()
