"""The demo as a person uses it: Debian's chromium, driven by Playwright, on ``python space/app.py``.

No browser is downloaded: Playwright's Python package drives the system chromium (``apt-get install -y
chromium``). The screenshot lands in tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_demo import ROWS, free_port, start_space_app, wait_for, write_corpus

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LANGUAGE_NAMES = {"sw": "Swahili", "en": "English", "fr": "French", "es": "Spanish", "de": "German"}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, minilm_path):
    tmp = tmp_path_factory.mktemp("space")
    port = free_port()
    proc = start_space_app(tmp, write_corpus(tmp / "corpus.jsonl"), port, minilm_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "install the browser: apt-get install -y chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(30_000)
        page.goto(app_url)
        # the page is up before the models: its progress line says so until they are ready, then clears
        page.wait_for_function("() => { const line = document.querySelector('#progress');"
                               " return line && !line.innerText.includes('Starting'); }", timeout=120_000)
        yield page
        browser.close()


def test_swahili_query_shows_results_in_several_languages_and_the_chart(page):
    page.locator("#query textarea").fill("Soko liko wapi?")
    page.locator("#search").click()
    page.locator("#status").get_by_text("Top 10 of 40 passages").wait_for()
    table = page.locator("#results-0")
    # Gradio's table keeps hidden measuring copies of its cells: count only what a person can see
    table.get_by_text("Swahili").filter(visible=True).first.wait_for()
    shown = {name for name in LANGUAGE_NAMES.values() if table.get_by_text(name).filter(visible=True).count()}
    assert len(shown) >= 2, f"only {shown} in the results"
    market = next(r["passage"] for r in ROWS if r["id"] == "market" and r["lang"] == "sw")
    assert table.get_by_text(market).filter(visible=True).count() >= 1
    chart = page.locator("#chart-0")
    chart.locator("canvas, svg").first.wait_for(state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo_swahili_query.png"), full_page=True)
    assert (ARTIFACTS / "demo_swahili_query.png").stat().st_size > 10_000


def test_bad_query_shows_a_message_not_a_trace(page):
    page.locator("#query textarea").fill("   ")
    page.locator("#search").click()
    status = page.locator("#status")
    status.get_by_text("query: empty").wait_for()
    assert "Traceback" not in page.content()
