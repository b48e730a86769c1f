"""The page in Debian's headless Chromium (driven by Playwright): a person uploads a real portrait and
real speech, waits for the job, and gets a video that plays for as long as the speech; a 3D job's
viewer draws the animated face."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from tests.conftest import in_shared
from tests.serve.conftest import PORTRAIT

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (scripts/install_system_deps.sh --test)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    opened.goto(f"{server.url}/?token={server.token}")  # the address serve prints; the cookie keeps it
    opened.wait_for_selector("body[data-ready=true]", timeout=30000)
    yield opened
    context.close()
    assert problems == []  # no script error on the page, nothing the security policy had to block


def save(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.slow
def test_a_portrait_speaks_in_the_browser(page, short_speech):
    page.select_option("#method", "talking-photo")
    page.set_input_files("#face", str(in_shared(PORTRAIT)))
    page.set_input_files("#speech", str(short_speech))
    page.fill("#option-size", "256")
    page.click("#start")
    page.wait_for_selector("#job[data-status=running]", timeout=60000)
    page.wait_for_selector("#job[data-status=done]", timeout=240000)
    video = page.wait_for_selector("#result-video")
    page.wait_for_function("() => document.querySelector('#result-video').readyState >= 1", timeout=30000)
    duration = page.evaluate("document.querySelector('#result-video').duration")
    with av.open(str(short_speech)) as speech:
        seconds = float(speech.duration) / 1e6
    assert abs(duration - seconds) < 0.15
    # It plays: time moves on.
    page.evaluate(
        "document.querySelector('#result-video').muted = true; document.querySelector('#result-video').play()"
    )
    page.wait_for_function("() => document.querySelector('#result-video').currentTime > 0.5", timeout=30000)
    assert video.is_visible()
    shot = save(page, "talking-photo.png")
    assert shot.stat().st_size > 20000
    assert page.locator(".downloads a").count() == 2


@pytest.mark.slow
def test_typed_text_becomes_a_3d_face_in_the_viewer(page):
    page.select_option("#method", "mesh")
    assert page.is_hidden("#face-field")
    page.check("[name=speech-source][value=text]")
    page.fill("#text", "Pack my box with five dozen liquor jugs.")
    page.fill("#option-size", "160")
    page.click("#start")
    page.wait_for_selector("#job[data-status=done]", timeout=240000)
    page.wait_for_function("() => window.viewer && window.viewer.frames > 20", timeout=30000)
    # The face moves: the mouth's vertices differ between two moments of the animation.
    moved = page.evaluate(
        """() => {
            const v = window.viewer, a = v.pose(0.3).positions, b = v.pose(1.0).positions;
            let most = 0;
            for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i] - b[i]));
            return most / v.radius;
        }"""
    )
    assert moved > 0.01
    # The canvas shows the face: a good part of it is not the background.
    lit = page.evaluate(
        """() => {
            const c = document.querySelector('#viewer'), copy = document.createElement('canvas');
            copy.width = c.width; copy.height = c.height;
            const g = copy.getContext('2d'); g.drawImage(c, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 80) n++;
            return n / (c.width * c.height);
        }"""
    )
    assert lit > 0.05
    save(page, "mesh.png")


@pytest.mark.slow
def test_a_bad_file_gets_a_clear_message_on_the_page(page, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("these are notes, not sound\n")
    page.select_option("#method", "visemes")
    page.set_input_files("#speech", str(notes))
    page.click("#start")
    page.wait_for_function("() => document.querySelector('#form-error').textContent.length > 0", timeout=30000)
    assert "not an image, audio or video" in page.text_content("#form-error")
    assert page.is_hidden("#job")


@pytest.mark.slow
def test_the_page_without_its_token_says_what_to_open(browser, server):
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(server.url + "/")
    opened.wait_for_function("() => document.getElementById('form-error').textContent.length > 0", timeout=30000)
    message = opened.text_content("#form-error")
    assert "access token" in message and "talkingface serve" in message
    assert opened.evaluate("document.body.dataset.ready") is None  # nothing else works without it
    context.close()


@pytest.mark.slow
def test_the_api_docs_draw_every_operation_offline_under_the_policy(browser, server):
    context = browser.new_context()
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    outside: list[str] = []
    opened.on("request", lambda request: None if request.url.startswith(server.url) else outside.append(request.url))
    opened.goto(server.url + "/docs")
    opened.wait_for_selector(".opblock", timeout=30000)
    drawn = opened.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.textContent)")
    assert {"/api/jobs", "/api/jobs/{job_id}", "/api/health"} <= {path.replace("\u200b", "") for path in drawn}
    assert problems == [] and outside == []  # no policy violation, nothing fetched from elsewhere
    context.close()


@pytest.mark.slow
def test_the_page_in_two_panes_with_previews_and_a_still_bar_after_a_failure(page, server, tmp_path, short_speech):
    import numpy as np
    from PIL import Image

    page.select_option("#method", "sync-score")  # a video with its sound, and no options to show
    assert page.is_hidden("#options-field") and page.is_hidden("#speech-field")
    assert "video with its own sound" in page.text_content("#face-drop-text")
    page.select_option("#method", "talking-photo")
    assert page.is_visible("#options-field") and "photo" in page.text_content("#face-drop-text")
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (160, 160, 3), np.uint8)).save(noise)
    page.set_input_files("#face", str(noise))
    page.set_input_files("#speech", str(short_speech))
    page.wait_for_selector("#speech-preview audio[controls]")  # the chosen speech can be heard first
    assert page.is_visible("#idle")
    page.fill("#option-size", "128")
    page.click("#start")
    page.wait_for_selector("#job[data-status=failed]", timeout=120000)
    form, job = page.locator("#job-form").bounding_box(), page.locator("#job").bounding_box()
    assert job["x"] >= form["x"] + form["width"] and job["y"] < form["y"] + 200  # beside the form, at its top
    assert page.is_hidden("#idle") and page.is_hidden("#progress")  # no bar still moving for a failed job
    assert page.text_content("#status") == "Failed" and "no face" in page.text_content("#job-error")
    icon = page.request.get(server.url + "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.slow
def test_a_click_on_the_examples_makes_a_talking_photo(browser, tmp_path, short_speech):
    """The operator's example photo and speech (``--examples``) and the typed sentence fill the form as a
    person's own choices would, and the job they make runs."""
    import shutil

    from tests.serve.conftest import serving

    folder = tmp_path / "examples"
    folder.mkdir()
    shutil.copy(in_shared(PORTRAIT), folder / "portrait.jpg")
    shutil.copy(short_speech, folder / "speech.wav")
    with serving(tmp_path, "--examples", str(folder)) as offering:
        context = browser.new_context(viewport={"width": 1100, "height": 1400})
        opened = context.new_page()
        problems: list[str] = []
        opened.on("pageerror", lambda error: problems.append(str(error)))
        opened.goto(f"{offering.url}/?token={offering.token}")
        opened.wait_for_selector("body[data-ready=true]", timeout=30000)
        opened.select_option("#method", "sync-score")  # a video with its own sound: no example fits
        assert opened.is_hidden("#examples")
        opened.select_option("#method", "visemes")  # speech, no face
        assert opened.is_hidden("#example-photo") and opened.is_visible("#example-speech")
        opened.select_option("#method", "talking-photo")
        opened.click("#example-speech")
        opened.wait_for_selector("#speech-preview audio[controls]")
        assert opened.evaluate("document.querySelector('#speech').files[0].size") == short_speech.stat().st_size
        opened.click("#example-sentence")
        assert opened.is_visible("#text") and len(opened.input_value("#text").split()) > 5
        opened.click("#example-photo")
        opened.wait_for_selector("#face-preview img")
        opened.fill("#option-size", "192")
        opened.click("#start")
        opened.wait_for_selector("#job[data-status=done]", timeout=240000)
        assert opened.is_visible("#result-video")
        context.close()
        assert problems == []


@pytest.mark.slow
def test_the_result_panes_of_curves_sync_scores_and_dubbing(page, short_speech):
    """Each job's result pane as a person sees it (screenshots in out/screenshots): the curves' plot, the
    sync scores with what is good, and the dubbed video, each with its downloads."""
    from tests.serve.conftest import GRID_CLIP

    clip = str(in_shared(GRID_CLIP))

    def run(method: str, face: str | None, speech: str | None) -> None:
        page.select_option("#method", method)
        if face:
            page.set_input_files("#face", face)
        if speech:
            page.check("[name=speech-source][value=file]")
            page.set_input_files("#speech", speech)
        page.evaluate("document.querySelector('#result').replaceChildren()")  # the last job's pane goes
        page.click("#start")
        page.wait_for_selector("#job[data-status=done] #result .downloads", timeout=240000)

    run("visemes", None, str(short_speech))
    page.wait_for_function("() => [...document.querySelectorAll('#result img')].some(i => i.naturalWidth > 200)")
    assert page.locator(".downloads a").count() >= 2
    assert save(page, "visemes.png").stat().st_size > 20000

    run("sync-score", clip, None)
    rows = page.locator("#score tr")
    assert rows.count() >= 2 and "lower is better" in page.text_content("#result .hint")
    assert abs(int(rows.nth(1).locator("td").nth(4).text_content())) <= 3  # a real clip is nearly in sync
    save(page, "sync-score.png")

    run("lipsync", clip, str(short_speech))
    page.wait_for_function("() => document.querySelector('#result-video').readyState >= 1", timeout=30000)
    with av.open(str(short_speech)) as speech:
        seconds = float(speech.duration) / 1e6
    assert abs(page.evaluate("document.querySelector('#result-video').duration") - seconds) < 0.2
    save(page, "lipsync.png")
