import pytest

from firth.errors import FirthError
from firth.search.analyze import Analyzer, load_stoplist, tokenize


def test_tokenize_folds_case_accents_and_splits_on_punctuation():
    assert tokenize("Naïve café: boundary-layer, don't 3.5x!") == ["naive", "cafe", "boundary", "layer", "don", "t", "3", "5x"]


def test_analyzer_drops_stop_words_then_stems():
    a = Analyzer()
    assert a("What are the boundary layers of the wings?") == ["boundari", "layer", "wing"]
    assert a("the of and") == []


def test_bundled_stop_list_has_the_usual_words():
    sw = load_stoplist("en")
    assert {"the", "of", "and", "a", "is", "t", "don"} <= sw
    assert "layer" not in sw and len(sw) > 100


def test_no_stem_no_stop_and_min_len():
    a = Analyzer(stopwords=None, stemmer=None, min_len=2)
    assert a("A flow of the layers") == ["flow", "of", "the", "layers"]


def test_custom_stop_list_round_trips_as_words(tmp_path):
    p = tmp_path / "stop.txt"
    p.write_text("# mine\nflow\nwing\n", encoding="utf-8")
    a = Analyzer(stopwords=str(p))
    assert a("flow over a wing tip") == ["over", "a", "tip"]
    d = a.to_dict()
    assert d["stopwords"] == ["flow", "wing"]
    p.unlink()  # the saved settings do not need the file any more
    b = Analyzer.from_dict(d)
    assert b("flow over a wing tip") == ["over", "a", "tip"]
    assert Analyzer.from_dict(Analyzer().to_dict())("The layers") == ["layer"]


def test_bad_settings_are_one_line_errors(tmp_path):
    with pytest.raises(FirthError, match="stop list"):
        Analyzer(stopwords=str(tmp_path / "missing.txt"))
    with pytest.raises(FirthError, match="stemmer"):
        Analyzer(stemmer="lancaster")


def test_analyze_word_for_vocabulary():
    a = Analyzer()
    assert a.analyze_word("Layers") == "layer"
    assert a.analyze_word("the") is None
    assert a.analyze_word("boundary-layer") is None  # splits into two terms
