"""End to end in headless Chromium: start app.py on a free port on the offline stack, upload a
generated receipt, ask, and see the status at once, the streamed steps, the correct answer and
the evidence image outlining the total's line only; a second session asking while the first
runs sees that it waits for the model, and Stop ends its wait."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.llm]
REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"app.py did not listen within 120 s: {log.read_text()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


FIRST_SEEN_WATCH = """() => {
  window.firstSeen = {};
  new MutationObserver(() => {
    const text = document.querySelector('#chat').innerText;
    for (const mark of ['Working:', 'Tool:']) {
      if (text.includes(mark) && !(mark in window.firstSeen)) window.firstSeen[mark] = performance.now();
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def outlined_boxes(page, src: str, original) -> int:
    """How many separate boxes the evidence image draws over the original: connected regions of
    changed pixels (each box and its label are one region)."""
    import io

    import numpy as np
    from PIL import Image
    from scipy import ndimage

    drawn = Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")
    diff = np.abs(np.asarray(drawn, dtype=int) - np.asarray(original.convert("RGB"), dtype=int)).sum(axis=2) > 30
    _, n = ndimage.label(ndimage.binary_dilation(diff, iterations=3))
    return int(n)


def test_ask_about_an_uploaded_receipt(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from mmagent.core.samples import render_receipt

    receipt = render_receipt(seed=0)
    image = tmp_path / "receipt.png"
    receipt.image.save(image)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.locator("#input input[type=file]").set_input_files(str(image))
        page.locator("#input textarea").fill("What is the total on the receipt?")
        chat = page.locator("#chat")
        page.evaluate(FIRST_SEEN_WATCH)
        page.locator("#input textarea").press("Enter")
        page.evaluate("window.sentAt = performance.now()")
        # the turn's status shows at once, before any step (models load and run after it)
        expect(chat).to_contain_text("Working:", timeout=30_000)
        expect(chat).to_contain_text("Tool:", timeout=120_000)
        seen = page.evaluate("window.firstSeen")
        sent_at = page.evaluate("window.sentAt")
        print(
            f"first feedback {(seen['Working:'] - sent_at) / 1000:.2f} s after sending, "
            f"first tool step {(seen['Tool:'] - sent_at) / 1000:.2f} s"
        )
        assert seen["Working:"] <= seen["Tool:"], "the status shows before the first tool step"
        expect(chat).to_contain_text("Plan (", timeout=120_000)  # the steps stream in as they happen
        expect(chat).to_contain_text("ocr (t1)", timeout=60_000)
        answer = chat.locator(".message", has_text="evidence:").last
        expect(answer).to_be_visible(timeout=240_000)
        assert f"{receipt.total:.2f}" in answer.inner_text()  # the correct answer, in the answer message
        evidence = chat.locator('img[src*="evidence-img-1"]')
        expect(evidence).to_be_visible(timeout=20_000)  # drawn evidence
        expect(chat).not_to_contain_text("Working:")  # the status went with the answer
        outlined = outlined_boxes(page, evidence.get_attribute("src"), receipt.image)
        assert outlined == 1, f"the evidence outlines {outlined} lines, not just the total's"
        # step titles are text (no emoji, which render as empty boxes without an emoji font)
        expect(chat).to_contain_text("Tool: ocr (t1)")
        shown = chat.inner_text()
        assert not [c for c in shown if 0x2600 <= ord(c) <= 0x27BF or ord(c) >= 0x1F000], shown[:500]
        expect(page.get_by_text("Question and images")).to_be_visible()  # the input box's label
        page.screenshot(path=str(tmp_path / "mmagent.ui.png"), full_page=True)
        if os.environ.get("SCREENSHOT_TO"):  # how the README screenshot is made
            page.screenshot(path=os.environ["SCREENSHOT_TO"], full_page=True)
        # the server serves nothing outside its artifact directory
        response = page.request.get(f"{app_url}/gradio_api/file=/etc/passwd")
        assert response.status in (403, 404)
        browser.close()
    assert (tmp_path / "mmagent.ui.png").stat().st_size > 20_000


QUEUED_WATCH = """() => {
  window.sawQueued = false;
  new MutationObserver(() => {
    if (document.querySelector('#chat').innerText.includes('queued,')) window.sawQueued = true;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_second_session_sees_it_is_queued_and_can_stop(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from mmagent.core.samples import render_receipt

    image = tmp_path / "receipt.png"
    render_receipt(seed=1).image.save(image)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        first, second = browser.new_page(), browser.new_page()  # two browser sessions
        for page in (first, second):
            page.goto(app_url)
            page.locator("#input input[type=file]").set_input_files(str(image))
        # the first asks with the ideal loop, which calls the model turn after turn
        first.get_by_text("Settings", exact=True).first.click()
        first.get_by_label("planner").click()
        first.get_by_role("option", name="ideal", exact=True).click()
        first.locator("#input textarea").fill("What is the total on the receipt?")
        first.locator("#input textarea").press("Enter")
        expect(first.locator("#chat")).to_contain_text("(model)", timeout=120_000)
        second.evaluate(QUEUED_WATCH)
        second.locator("#input textarea").fill("How many items are on the receipt?")
        second.locator("#input textarea").press("Enter")
        second.wait_for_function("window.sawQueued === true", timeout=120_000)
        print("second session:", second.locator("#chat").inner_text()[-200:])
        second.locator("#stop").click()
        expect(second.locator("#chat")).to_contain_text("Stopped.", timeout=30_000)
        expect(second.locator("#chat")).not_to_contain_text("Working:")
        first.locator("#stop").click()
        expect(first.locator("#chat")).to_contain_text("Stopped.", timeout=30_000)
        browser.close()
