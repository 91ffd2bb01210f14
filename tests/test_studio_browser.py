"""The studio in a real browser: Debian's headless Chromium, driven by selenium through chromium-driver,
against `audiobook studio seeds` in its own process. The tests run in order, as one user's session:
open the book, hear a preview and a line, build, recast Kaito, fix a line's speaker, build again
(only the changed clips are spoken), and a second tab's stale save refused. The first test writes
the README's screenshot, docs/studio.png."""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from studio_run import ROOT, RunningStudio, copy_seed_book, needs_studio, running_studio

from audiobook.config import load_config
from audiobook.plan import BuildOptions, Plan, plan, speakable

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    webdriver = None  # type: ignore[assignment]

pytestmark = [
    needs_studio,
    pytest.mark.needs_espeak,
    pytest.mark.needs_ffmpeg,
    pytest.mark.skipif(webdriver is None, reason="needs selenium: pip install -e '.[test]'"),
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="needs Chromium and its driver: apt-get install chromium chromium-driver"),
]
SCREENSHOT = ROOT / "docs" / "studio.png"
BUILD_TIMEOUT_S = 1200  # the whole seed book on a loaded 2-core machine


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStudio]:
    root = copy_seed_book(tmp_path_factory.mktemp("studio-browser"))
    with running_studio(root) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """A fresh headless Chromium (its own profile, no network of its own), always quit."""
    profile = tempfile.mkdtemp(prefix="studio-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,1400",
        "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--lang=en-US",
        # nowhere but 127.0.0.1: other names resolve to nothing, and any other address goes to a closed port
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.set_script_timeout(180)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def first_plan(studio: RunningStudio) -> Plan:
    """The book as the casting file had it before the user changed anything."""
    return _plan(studio)


def _plan(studio: RunningStudio) -> Plan:
    return plan(BuildOptions((studio.root / "seeds",), voices_path=studio.voices))


def wait(driver: WebDriver, condition: Callable[[WebDriver], object], timeout_s: float = 60, what: str = "") -> object:
    """Wait for `condition`; an element the page re-rendered meanwhile (stale) is looked for again."""
    waiting = WebDriverWait(driver, timeout_s, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))
    return waiting.until(lambda d: condition(d), message=what)


def row(driver: WebDriver, name: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'#cast tr[data-name="{name}"]')


def click(driver: WebDriver, element: WebElement) -> None:
    """Click as a user would: with the element scrolled to the middle of the window, clear of the
    sticky header and the player at the bottom."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def choose(driver: WebDriver, element: WebElement, value: str) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    Select(element).select_by_value(value)


def message(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "message-text").text


def listen_for_ended(driver: WebDriver) -> None:
    """Count the player's `ended` events; play at 4x so a test listens for seconds, not half a minute."""
    driver.execute_script(
        "const p = document.getElementById('player'); p.defaultPlaybackRate = 4;"
        "if (!window.endedCount) { window.endedCount = 0; p.addEventListener('ended', () => window.endedCount++); }"
    )


def played_to_the_end(driver: WebDriver, times: int) -> float:
    """Wait for the player's `times`-th `ended`; the duration of what it played, in seconds."""
    wait(driver, lambda d: d.execute_script("return window.endedCount") >= times, 180, "the player never ended")
    return float(driver.execute_script("return document.getElementById('player').duration"))


def cache_files(studio: RunningStudio) -> set[Path]:
    return {p for p in (studio.output / ".cache").rglob("*") if p.is_file() and p.name != ".lock"}


def test_open_the_studio_on_the_seed_book(browser: WebDriver, studio: RunningStudio, first_plan: Plan) -> None:
    assert first_plan.chapters  # read now, before any change: the next build is compared with it
    browser.get(studio.url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#cast tr[data-name="Kaito"]'), what="no cast")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#script .line.dialogue"), what="no script")
    assert browser.find_element(By.ID, "title").text == "Vocaloid Stories"
    names = [th.text.splitlines()[0] for th in browser.find_elements(By.CSS_SELECTOR, "#cast th.name")]
    assert {"Miku", "Kaito", "Haku", "Luka"} <= set(names)
    assert names[0] == "narrator"
    kaito = row(browser, "Kaito")
    assert kaito.find_element(By.CSS_SELECTOR, "select.voice").get_attribute("value") == "en-us"
    assert kaito.find_element(By.CSS_SELECTOR, "select.variant").get_attribute("value") == "+m3"
    assert kaito.find_element(By.CSS_SELECTOR, "input.rate").get_attribute("value") == "170"
    assert Select(kaito.find_element(By.CSS_SELECTOR, "select.gender")).first_selected_option.text == "male"
    # every engine's voices are offered (Piper's too, or why it has none here)
    groups = kaito.find_elements(By.CSS_SELECTOR, "select.voice optgroup")
    assert [g.get_attribute("label") for g in groups] == ["eSpeak NG", "Piper (natural voices)"]
    assert len(groups[0].find_elements(By.TAG_NAME, "option")) >= 5
    # the script: each dialogue line's speaker, rule and confidence; unsure lines stand out
    lines = browser.find_elements(By.CSS_SELECTOR, "#script .line.dialogue")
    assert re.fullmatch(r"[a-z-]+ · [01]\.\d\d", lines[0].find_element(By.CSS_SELECTOR, ".rule").text)
    Select(browser.find_element(By.ID, "chapter")).select_by_value("all")
    low = browser.find_elements(By.CSS_SELECTOR, "#script .line.dialogue.low")
    sure = browser.find_elements(By.CSS_SELECTOR, "#script .line.dialogue:not(.low)")
    assert low and sure
    assert low[0].value_of_css_property("background-color") != sure[0].value_of_css_property("background-color")
    assert float(low[0].find_element(By.CSS_SELECTOR, ".rule").text.split(" · ")[1]) < 0.6
    # the picture: the cast, and a chapter with an unsure line in its first screenful
    book = studio.get_json("/api/book")
    shown = next(c["number"] for c in book["chapters"] if any(line["low"] for line in c["lines"][:15]))
    Select(browser.find_element(By.ID, "chapter")).select_by_value(str(shown))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))  # the README's picture of the studio, kept current
    assert SCREENSHOT.stat().st_size > 10_000


def test_filter_by_character_and_search(browser: WebDriver, studio: RunningStudio) -> None:
    Select(browser.find_element(By.ID, "speaker-filter")).select_by_value("Haku")
    Select(browser.find_element(By.ID, "chapter")).select_by_value("all")
    lines = browser.find_elements(By.CSS_SELECTOR, "#script .line")
    assert lines and all(
        Select(line.find_element(By.CSS_SELECTOR, "select.speaker")).first_selected_option.text == "Haku"
        for line in lines if "dialogue" in line.get_attribute("class")
    )
    Select(browser.find_element(By.ID, "speaker-filter")).select_by_value("")
    search = browser.find_element(By.ID, "search")
    search.send_keys("tower")
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#script .line .text")]
    assert texts and all("tower" in text.lower() for text in texts)
    search.clear()
    search.send_keys(" ")  # an input event with no words: every line again
    Select(browser.find_element(By.ID, "chapter")).select_by_value("1")


def test_play_a_preview_then_again_from_the_cache(browser: WebDriver, studio: RunningStudio) -> None:
    listen_for_ended(browser)
    click(browser, row(browser, "Miku").find_element(By.CSS_SELECTOR, "button.preview"))
    duration_s = played_to_the_end(browser, 1)
    assert duration_s > 0.5
    assert "/audio/preview/" in browser.execute_script("return document.getElementById('player').src")
    made = cache_files(studio)
    assert any(p.suffix == ".mp3" for p in made)
    click(browser, row(browser, "Miku").find_element(By.CSS_SELECTOR, "button.preview"))
    assert played_to_the_end(browser, 2) == pytest.approx(duration_s)
    assert cache_files(studio) == made  # the second play spoke nothing: the same file, no clip made


def test_click_a_line_to_hear_it(browser: WebDriver, studio: RunningStudio) -> None:
    line = browser.find_element(By.CSS_SELECTOR, "#script .line.dialogue")
    click(browser, line.find_element(By.CSS_SELECTOR, ".text"))  # the words themselves, as a user would
    assert played_to_the_end(browser, 3) > 0.2
    assert browser.find_element(By.ID, "now-playing").text.startswith("Chapter 1, line ")
    click(browser, line.find_element(By.CSS_SELECTOR, "button.hear"))  # and its ▶
    assert played_to_the_end(browser, 4) > 0.2


def test_preview_a_piper_voice_then_go_back(browser: WebDriver, studio: RunningStudio) -> None:
    engines = {e["engine"]: e for e in studio.get_json("/api/voices")}
    if engines["piper"]["unavailable"] or not engines["piper"]["voices"]:
        pytest.skip(f"no Piper voice here: {engines['piper']['unavailable'] or 'none installed'}")
    piper = engines["piper"]["voices"][0]["id"]
    rin = row(browser, "Rin")
    choose(browser, rin.find_element(By.CSS_SELECTOR, "select.voice"), piper)
    assert not rin.find_element(By.CSS_SELECTOR, "select.variant").is_displayed()  # eSpeak's variants only
    assert browser.find_element(By.ID, "pending").text == "1 unsaved change"
    click(browser, rin.find_element(By.CSS_SELECTOR, "button.preview"))
    assert played_to_the_end(browser, 5) > 0.5  # Rin's lines in a neural voice
    choose(browser, rin.find_element(By.CSS_SELECTOR, "select.voice"), "en-us")
    choose(browser, rin.find_element(By.CSS_SELECTOR, "select.variant"), "+f5")
    assert browser.find_element(By.ID, "pending").text == ""  # back to Rin's own voice: nothing to save
    assert "changed" not in (rin.get_attribute("class") or "")


def build_in_the_page(browser: WebDriver) -> WebElement:
    """Click Build and wait for this build (not the one before) to end."""
    panel = browser.find_element(By.ID, "build-panel")
    number = int(panel.get_attribute("data-build") or 0) + 1
    browser.find_element(By.ID, "build").click()
    wait(browser, lambda d: panel.get_attribute("data-build") == str(number)
         and panel.get_attribute("data-state") in ("done", "failed"), BUILD_TIMEOUT_S, "the build did not finish")
    status = browser.find_element(By.ID, "build-status")
    assert browser.find_element(By.ID, "build-panel").get_attribute("data-state") == "done", status.text
    return status


def test_build_and_play_a_finished_chapter(browser: WebDriver, studio: RunningStudio) -> None:
    status = build_in_the_page(browser)
    assert re.search(r"Built 4 chapters\. \d+ of \d+ clips re-synthesized", status.text)
    chapters = browser.find_elements(By.CSS_SELECTOR, "#built-chapters li")
    assert len(chapters) == 4
    audio = chapters[2].find_element(By.TAG_NAME, "audio")
    duration_s = browser.execute_async_script(
        "const [audio, done] = arguments; audio.preload = 'metadata';"
        "audio.addEventListener('loadedmetadata', () => done(audio.duration)); audio.load();", audio)
    assert duration_s > 60  # "Flying Off the Tower" is minutes long


def test_change_kaitos_voice_and_save(browser: WebDriver, studio: RunningStudio) -> None:
    before = studio.voices.read_text(encoding="utf-8")
    choose(browser, row(browser, "Kaito").find_element(By.CSS_SELECTOR, "select.variant"), "+m7")
    assert browser.find_element(By.ID, "pending").text == "1 unsaved change"
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: message(d).startswith("Saved"), what="not saved")
    after = studio.voices.read_text(encoding="utf-8")
    diff = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert diff == ['- voice = "en-us+m3"', '+ voice = "en-us+m7"']
    kaito = after.splitlines().index("[characters.Kaito]")
    assert after.splitlines()[kaito + 2] == 'voice = "en-us+m7"'  # Kaito's, not another's
    comments = [line for line in before.splitlines() if "#" in line]
    assert comments and all(line in after.splitlines() for line in comments)
    variant = (By.CSS_SELECTOR, "select.variant")
    wait(browser, lambda d: row(d, "Kaito").find_element(*variant).get_attribute("value") == "+m7")


def test_fix_one_lines_speaker(browser: WebDriver, studio: RunningStudio) -> None:
    book = studio.get_json("/api/book")
    said = [line["text"].strip('"“” ').casefold() for c in book["chapters"] for line in c["lines"]]
    chapter, line = next((c, line) for c in book["chapters"] for line in c["lines"]  # an unsure line said once
                         if line["kind"] == "dialogue" and line["low"] and line["speaker"] not in ("Luka", "narrator")
                         and said.count(line["text"].strip('"“” ').casefold()) == 1)
    before = studio.voices.read_text(encoding="utf-8")
    Select(browser.find_element(By.ID, "chapter")).select_by_value(str(chapter["number"]))
    where = f'[data-chapter="{chapter["number"]}"][data-line="{line["index"]}"]'
    target = browser.find_element(By.CSS_SELECTOR, f"#script .line{where}")
    choose(browser, target.find_element(By.CSS_SELECTOR, "select.speaker"), "Luka")
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: message(d).startswith("Saved"), what=f"not saved: {message(browser)}")
    after = studio.voices.read_text(encoding="utf-8")
    assert after.startswith(before)  # the rest of the file as it was
    added = after[len(before):]
    entry = re.fullmatch(r'\s*\[\[lines\]\]\nquote = "(.+)"\nspeaker = "Luka"\n', added)
    assert entry, added
    quote = entry.group(1)
    assert line["text"].strip("\"“ ").startswith(quote) and len(quote.split()) >= min(4, len(line["text"].split()))
    fixed = next(x for c in studio.get_json("/api/book")["chapters"] if c["number"] == chapter["number"]
                 for x in c["lines"] if x["index"] == line["index"])
    assert fixed["speaker"] == "Luka"


def test_build_again_speaks_only_the_changed_clips(
    browser: WebDriver, studio: RunningStudio, first_plan: Plan
) -> None:
    now = _plan(studio)
    spoken_before = {(u.spoken, u.voice) for c in first_plan.chapters for u in c.utterances}
    changed = [u for c in now.chapters for u in c.utterances
               if speakable(u.spoken) and (u.spoken, u.voice) not in spoken_before]
    total = sum(1 for c in now.chapters for u in c.utterances if speakable(u.spoken))
    kaito = [u for u in changed if u.speaker == "Kaito"]
    assert kaito and len(changed) < total / 2
    status = build_in_the_page(browser)
    assert status.get_attribute("data-synthesized") == str(len(changed))
    assert f"{len(changed)} of {total} clips re-synthesized" in status.text
    recast = browser.find_element(By.ID, "recast").text
    assert re.search(r"Changed speaker: \d+ lines?: \[\[lines\]\] in .*voices\.toml:\d+", recast), recast


def test_merge_not_a_character_and_gender(browser: WebDriver, studio: RunningStudio) -> None:
    before = studio.get_json("/api/book")
    lines = {r["name"]: r["lines"] for r in before["cast"]}
    assert not row(browser, "a voice").find_elements(By.CSS_SELECTOR, "button.not-character")  # a description
    choose(browser, row(browser, "a boy").find_element(By.CSS_SELECTOR, "select.merge"), "Kaito")
    click(browser, row(browser, "Len").find_element(By.CSS_SELECTOR, "button.not-character"))
    choose(browser, row(browser, "one girl").find_element(By.CSS_SELECTOR, "select.gender"), "male")
    assert browser.find_element(By.ID, "pending").text == "3 unsaved changes"
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: message(d).startswith("Saved 3 changes"), what=f"not saved: {message(browser)}")
    config = load_config(studio.voices)
    characters = {c.name: c for c in config.characters}
    assert "a boy" in characters["Kaito"].aliases
    assert "Len" not in characters and config.not_characters == ("Len",)
    assert characters["one girl"].gender == "male"
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, '#cast tr[data-name="a boy"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, '#cast tr[data-name="Len"]')
    assert Select(row(browser, "one girl").find_element(By.CSS_SELECTOR, "select.gender")).first_selected_option.text \
        == "male"
    after = {r["name"]: r["lines"] for r in studio.get_json("/api/book")["cast"]}
    assert after["Kaito"] >= lines["Kaito"] + lines["a boy"]


def test_a_second_tab_cannot_overwrite_a_newer_save(browser: WebDriver, studio: RunningStudio) -> None:
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(studio.url)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#cast tr[data-name="Luki"]'))
        second = browser.current_window_handle
        browser.switch_to.window(first)  # the first tab saves...
        rate = row(browser, "Luki").find_element(By.CSS_SELECTOR, "input.rate")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", rate)
        rate.clear()
        rate.send_keys("190\t")
        browser.find_element(By.ID, "save").click()
        wait(browser, lambda d: message(d).startswith("Saved"))
        saved = studio.voices.read_bytes()
        browser.switch_to.window(second)  # ...then the second, still showing the file as it was
        pitch = row(browser, "Luki").find_element(By.CSS_SELECTOR, "input.pitch")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pitch)
        pitch.clear()
        pitch.send_keys("10\t")
        browser.find_element(By.ID, "save").click()
        wait(browser, lambda d: message(d).startswith("Not saved"))
        assert "changed since this page read it" in message(browser)
        assert browser.find_element(By.ID, "reload").is_displayed()
        assert studio.voices.read_bytes() == saved
        click(browser, browser.find_element(By.ID, "reload"))  # reloading shows the first tab's change
        rate_of_luki = (By.CSS_SELECTOR, "input.rate")
        wait(browser, lambda d: row(d, "Luki").find_element(*rate_of_luki).get_attribute("value") == "190")
    finally:
        browser.close()
        browser.switch_to.window(first)


def test_the_page_had_no_script_errors(browser: WebDriver) -> None:
    errors = [entry["message"] for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE" and "status of 409" not in entry["message"]]
    assert errors == []
