"""End to end in headless Chromium: start app.py on a free port on the offline stack, upload a
generated receipt, ask, and see the streamed steps, the correct answer and the evidence image."""

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
        page.locator("#input textarea").press("Enter")
        chat = page.locator("#chat")
        expect(chat).to_contain_text("Plan (", timeout=120_000)  # the steps stream in as they happen
        expect(chat).to_contain_text("ocr (t1)", timeout=60_000)
        answer = chat.locator(".message", has_text="evidence:").last
        expect(answer).to_be_visible(timeout=240_000)
        assert f"{receipt.total:.2f}" in answer.inner_text()  # the correct answer, in the answer message
        expect(chat.locator('img[src*="evidence-img-1"]')).to_be_visible(timeout=20_000)  # drawn evidence
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
