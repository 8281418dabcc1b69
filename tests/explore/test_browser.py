"""End-to-end: the page in headless Chromium (Debian's chromium, driven by Playwright).

Skips with a message when chromium or the playwright package is missing (.ci/run installs
chromium with apt-get; ``playwright install`` is never used: no browser download).
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="the explore extra is not installed: pip install 'firth[explore]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install 'firth[explore]'")

expect = sync_api.expect

from firth.explore.app import create_app  # noqa: E402
from firth.explore.server import _bind  # noqa: E402
from firth.explore.session import Explorer  # noqa: E402

from .conftest import HOSTILE  # noqa: E402

CHROMIUM = os.environ.get("FIRTH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does it)", allow_module_level=True)


def _serve(explorer):
    import uvicorn

    sock = _bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(explorer), log_level="warning", lifespan="off"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "the explore server did not start"
    return server, t, f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture(scope="module")
def urls(model_files):
    one = Explorer.open(model_files[:1])
    two = Explorer.open(model_files)
    for ex in (one, two):
        ex.start()
    servers = [_serve(one), _serve(two)]
    yield [s[2] for s in servers]
    for server, t, _ in servers:
        server.should_exit = True
        t.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("dialog", lambda d: (pg.errors.append("dialog: " + d.message), d.dismiss()))
    yield pg
    ctx.close()


def _open(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)


def _tab(page, name):
    page.click(f"#tabs button[data-tab='{name}']")


def test_neighbours_and_hostile_words_stay_text(page, urls):
    _open(page, urls[0])
    page.fill("#nb-word", "king")
    page.click("#nb-go")
    page.wait_for_selector(".nb-words li", state="attached")
    words = page.locator(".nb-words li").all_text_contents()
    assert len(words) == 10 and "prince" in words
    for w in HOSTILE:  # shown literally, as text
        assert w in words
    labels = page.locator(".nb-chart text.label").all_text_contents()
    assert any("<script>" in x for x in labels)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#nb-results script, #nb-results img").count() == 0
    assert page.errors == []


def test_completion_offers_vocabulary(page, urls):
    _open(page, urls[0])
    page.type("#nb-word", "que")
    expect(page.locator("#vocab option")).to_have_count(1)
    assert page.eval_on_selector_all("#vocab option", "os => os.map(o => o.value)") == ["queen"]


def test_analogy_answer(page, urls):
    _open(page, urls[0])
    _tab(page, "analogies")
    page.fill("#an-a", "man")
    page.fill("#an-b", "king")
    page.fill("#an-c", "woman")
    page.click("#an-go")
    expect(page.locator("#an-answer")).to_have_text("queen")
    page.select_option("#an-method", "mul")
    page.click("#an-go")
    expect(page.locator("#an-chart text").first).to_contain_text("3CosMul")
    assert page.text_content("#an-answer") == "queen"


def test_map_points_hover_click_and_save(page, urls, tmp_path):
    _open(page, urls[0])
    _tab(page, "map")
    page.fill("#map-word", "king")
    page.fill("#map-n", "20")
    page.click("#map-go")
    page.wait_for_selector("#map-svg circle.pt")
    assert page.locator("#map-svg circle.pt").count() == 21
    assert page.evaluate("window.__pwned") is None
    page.hover("#map-svg circle.pt >> nth=3")
    tip = page.text_content("#map-tip")
    assert tip and page.is_visible("#map-tip")
    # clicking a point re-centres the map on it
    target = page.locator("#map-svg circle.pt >> nth=5").get_attribute("data-word")
    page.click("#map-svg circle.pt >> nth=5", force=True)
    expect(page.locator("#map-word")).to_have_value(target)
    expect(page.locator("#map-svg circle.pt[data-word='%s']" % target)).to_have_attribute("fill", "#e8833a")
    expect(page.locator("#map-svg circle.pt")).to_have_count(21)
    with page.expect_download() as dl:
        page.click("#map-svg-save")
    svg = tmp_path / "map.svg"
    dl.value.save_as(svg)
    assert svg.read_text().count("<circle") == 21
    with page.expect_download() as dl:
        page.click("#map-png")
    png = tmp_path / "map.png"
    dl.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.errors == []


def test_weat_effect_size(page, urls):
    _open(page, urls[0])
    _tab(page, "bias")
    page.select_option("#weat-test", "weat1")
    page.click("#weat-go")
    expect(page.locator("#weat-effect")).not_to_have_text("")
    assert float(page.text_content("#weat-effect")) > 1.0
    assert page.locator("#weat-chart circle.dot").count() == 50
    page.fill("#axis-words", "queen prince hot nosuchword")
    page.click("#axis-go")
    expect(page.locator("#axis-chart text.label")).to_have_text(["prince", "hot", "queen"])  # he (king, man) side first
    assert page.errors == []


def test_two_models_side_by_side_and_screenshot(page, urls):
    _open(page, urls[1])
    page.fill("#nb-word", "king")
    page.click("#nb-go")
    page.wait_for_selector(".model-list + .model-list .nb-words li", state="attached")
    heads = page.locator(".model-list h3").all_text_contents()
    assert heads == ["a.firth", "b.firth"]
    assert page.locator(".model-list >> nth=0").locator(".nb-words li").count() == 10
    assert page.locator(".model-list >> nth=1").locator(".nb-words li").count() == 10
    assert "overlap:" in page.text_content("#nb-overlap")
    out = os.environ.get("FIRTH_EXPLORE_SCREENSHOT")  # docs/explore.png is made this way
    shot = page.screenshot(path=out or None, full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    assert page.errors == []


def test_limits_and_report(page, urls):
    _open(page, urls[0])
    _tab(page, "limits")
    page.fill("#lim-w1", "hot")
    page.fill("#lim-w2", "cold")
    page.click("#lim-go")
    expect(page.locator("#lim-wordnet")).not_to_have_text("")
    assert page.text_content("#lim-wordnet").startswith("antonyms")
    _tab(page, "report")
    page.click("#rep-go")
    page.wait_for_selector("#rep-an text.label", timeout=60_000)
    assert page.locator("#rep-sim g.bar").count() == 10
    assert page.errors == []


def test_unknown_word_shows_an_error(page, urls):
    """The error stays when a completion request (sent as the word was typed) is answered
    after it: completion answers are held back until the error shows, then released."""
    _open(page, urls[0])
    page.fill("#nb-word", "king")
    expect(page.locator("#vocab option")).to_have_count(1)
    held = []

    def hold(route):
        held.append(route)

    page.route("**/api/complete*", hold)
    page.fill("#nb-word", "nosuchword")
    page.click("#nb-go")
    expect(page.locator("#error")).to_contain_text("not in the vocabulary")
    for _ in range(200):  # the completion timer (80 ms) has fired and its request is held
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "no completion request was sent for the typed word"
    for r in held:
        r.continue_()
    page.unroute("**/api/complete*")
    expect(page.locator("#vocab option")).to_have_count(0)  # the late completion was applied ...
    expect(page.locator("#error")).to_contain_text("not in the vocabulary")  # ... and kept the error
    assert "nosuchword" in page.text_content("#error")
    page.fill("#nb-word", "king")  # the next action clears it
    page.click("#nb-go")
    page.wait_for_selector(".nb-words li", state="attached")
    expect(page.locator("#error")).to_have_text("")
    assert page.errors == []
