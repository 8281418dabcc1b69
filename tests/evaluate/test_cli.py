"""`firth evaluate` end to end: table, JSON keys and values, plot, one-line errors, light import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from firth.cli import main
from firth.vectors import KeyedVectors
from firth.evaluate import datasets


@pytest.fixture(scope="module")
def vec_file(tmp_path_factory):
    """Random vectors over every bundled benchmark word (plus one unknown-free set of fillers)."""
    ws = set()
    for p in datasets.bundled_similarity_files():
        ws.update(w.lower() for a, b, _ in datasets.read_pairs(p).pairs for w in (a, b))
    ws.discard("tiger")  # one word unknown: coverage < 1 for ws353
    for s in datasets.read_analogies(datasets.ANALOGY_FILE):
        ws.update(w.lower() for q in s.questions for w in q)
    for t in datasets.read_weat(datasets.WEAT_FILE):
        ws.update(w.lower() for _, lst in t.targets + t.attributes for w in lst)
    ws.update(["bank", "plant", "spring"])
    words = sorted(ws)
    rng = np.random.default_rng(0)
    kv = KeyedVectors(words, rng.standard_normal((len(words), 20)).astype(np.float32))
    path = tmp_path_factory.mktemp("ev") / "v.txt"
    kv.save(path, format="word2vec-text")
    return path


FAST = ["--weat-samples", "2000"]


def test_json_has_every_bundled_benchmark(vec_file, capsys):
    assert main(["evaluate", str(vec_file), "--json", *FAST]) == 0
    out = capsys.readouterr().out
    r = json.loads(out)  # stdout holds only the JSON
    for stem in ["ws353", "ws353_sim", "ws353_rel", "simlex999", "men", "men_natural", "rw", "mturk287", "rg65", "mc30"]:
        assert r[stem]["type"] == "similarity"
        assert -1 <= r[stem]["spearman"] <= 1 and -1 <= r[stem]["pearson"] <= 1
    n_tiger = sum("tiger" in (a.lower(), b.lower()) for a, b, _ in datasets.read_pairs(
        datasets.SIMILARITY_DIR / "ws353.tsv").pairs)
    assert n_tiger == 10
    assert r["ws353"]["pairs"] == 353 and r["ws353"]["oov"] == 10 and r["ws353"]["found"] == 343
    assert r["ws353"]["coverage"] == pytest.approx(343 / 353)
    q = r["questions-words"]
    assert q["total"]["questions"] == 19544 and len(q["sections"]) == 14 and q["restrict"] == 30000
    assert q["searched_words"] == r["meta"]["words"] < 30000
    assert q["total"]["oov"] == 0 and 0 <= q["total"]["add"]["accuracy"] <= 1
    assert q["semantic"]["questions"] + q["syntactic"]["questions"] == 19544
    w = r["weat"]["tests"]
    assert len(w) == 10 and w["weat7"]["p_method"] == "exact" and w["weat1"]["p_method"] == "sampled"
    assert 0 <= w["weat1"]["p_value"] <= 1 and w["weat7"]["paper_effect_size"] == 1.06
    assert r["antonyms"]["antonym"]["pairs"] > 0
    assert [x["word"] for x in r["polysemy"]["words"]] == ["bank", "plant", "spring"]
    assert r["meta"]["weat_ddof"] == 0 and r["meta"]["case_insensitive"] is True


def test_table_and_plot(vec_file, tmp_path, capsys):
    png = tmp_path / "e.png"
    assert main(["evaluate", str(vec_file), "--similarity", "--analogies", "--method", "mul",
                 "--restrict", "5000", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "ws353" in out and "3CosMul" in out and "3CosAdd" not in out and "TOTAL" in out
    assert "search over the 5,000 most frequent words" in out and "WEAT" not in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_user_files(vec_file, tmp_path, capsys):
    pairs = tmp_path / "mine.tsv"
    pairs.write_text("king\tqueen\t8\nking\tcabbage\t1\ncar\tautomobile\t9\n")
    weat = tmp_path / "bias.json"
    weat.write_text(json.dumps([{"id": "mine", "targets": {"X": ["king", "man"], "Y": ["queen", "woman"]},
                                 "attributes": {"A": ["car"], "B": ["zzzunknown", "cabbage"]}}]))
    assert main(["evaluate", str(vec_file), "--similarity", str(pairs), "--weat", str(weat), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) == {"mine", "bias", "meta"}
    assert r["mine"]["pairs"] == 3 and r["bias"]["tests"]["mine"]["missing"] == {"B": ["zzzunknown"]}
    assert r["bias"]["tests"]["mine"]["partitions"] == 6


def _err(args, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("firth: error: ")
    return err


def test_one_line_errors(vec_file, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\t1\nc d\n")
    assert "bad.tsv:2:" in _err(["evaluate", str(vec_file), "--similarity", str(bad)], capsys)
    badq = tmp_path / "q.txt"
    badq.write_text(": s\na b c d e\n")
    assert "q.txt:2: expected 4 words" in _err(["evaluate", str(vec_file), "--analogies", str(badq)], capsys)
    w = tmp_path / "w.json"
    w.write_text('[{"id": "e", "targets": {"X": [], "Y": ["a"]}, "attributes": {"A": ["b"], "B": ["c"]}}]')
    assert "set 'X' is empty" in _err(["evaluate", str(vec_file), "--weat", str(w)], capsys)
    assert "20 dimensions but 300 were expected" in _err(["evaluate", str(vec_file), "--dim", "300"], capsys)
    assert "--restrict" in _err(["evaluate", str(vec_file), "--restrict", "0"], capsys)


def test_help_explains_d_and_p_and_cli_import_is_light():
    code = ("import sys, firth.evaluate.cli; "
            "bad = [m for m in ('numba', 'matplotlib', 'torch', 'scipy', 'gensim') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    h = subprocess.run([sys.executable, "-m", "firth.cli", "evaluate", "--help"], capture_output=True,
                       text=True, check=True).stdout
    assert "effect size" in h and "one-sided permutation p-value" in h and "ddof" in h
