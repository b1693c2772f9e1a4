"""The interactive transcript page in a real browser (Debian's chromium + chromium-driver, headless).

Loads the page built from the shipped sample with the sample's audio next to it, checks the
console stays clean, clicks a line and reads the player's ``currentTime``, follows the current-line
highlight, searches, jumps through a chapter, and saves a screenshot as a test artifact
(``$PODWHISPERER_ARTIFACTS`` or ``test-artifacts/``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from publish_helpers import REPO, SAMPLE_AUDIO, sample_transcript

from podwhisperer.runtime.podcast.chapters import Chapter
from podwhisperer.runtime.podcast.page import render_transcript_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="chromium and chromium-driver are not installed (scripts/bootstrap.sh installs them)"),
    pytest.mark.timeout(180),
]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("PODWHISPERER_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1200,800", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
                     "--allow-file-access-from-files"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    shutil.copy(SAMPLE_AUDIO, folder / "two-voices.mp3")
    html = render_transcript_page(sample_transcript(), audio_src="two-voices.mp3", title="Two voices <sample>",
                                  language="en", chapters=[Chapter(0.0, "Welcome"), Chapter(15.281, "Costs")])
    path = folder / "two-voices_transcript.html"
    path.write_text(html, encoding="utf-8")
    return path


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the page")


def severe_console_messages(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_page_plays_seeks_highlights_searches_and_navigates(browser: Any, page: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert browser.title == "Two voices <sample>"
    wait_for(lambda: browser.execute_script("return document.getElementById('player').readyState >= 1"))
    duration = browser.execute_script("return document.getElementById('player').duration")
    assert 24 < duration < 26  # the sample's audio really loaded next to the page

    lines = browser.find_elements(By.CSS_SELECTOR, ".line")
    assert len(lines) == len([s for s in sample_transcript().segments if s.text.strip()])
    target = lines[4]
    target_start = float(target.get_attribute("data-start"))
    target.click()
    current_time = browser.execute_script("var a = document.getElementById('player'); a.pause(); return a.currentTime")
    assert target_start - 0.05 <= current_time <= target_start + 1.5
    wait_for(lambda: "current" in (target.get_attribute("class") or ""))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".line.current")) == 1

    chapter = browser.find_element(By.CSS_SELECTOR, "nav button[data-start='15.281']")
    chapter.click()
    browser.execute_script("document.getElementById('player').pause()")
    wait_for(lambda: "current" in (chapter.get_attribute("class") or ""))
    assert browser.execute_script("return document.getElementById('player').currentTime") >= 15.2

    search = browser.find_element(By.ID, "search")
    search.send_keys("cost")
    assert wait_for(lambda: browser.find_element(By.ID, "match-count").text) == "1 match"
    assert "cost" in browser.find_element(By.CSS_SELECTOR, ".line.match").text.lower()

    browser.save_screenshot(str(artifacts_dir() / "transcript_page.png"))
    assert severe_console_messages(browser) == []
