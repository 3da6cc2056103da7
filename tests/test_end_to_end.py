"""The real thing: packaged LLM planner + YOLO + PP-OCR answer multi-step questions."""
import json
import subprocess
import sys

import pytest

from agent import Agent, load_settings
from agent.samples import packaged_photo

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_receipt_total_and_most_expensive_item(settings_kwargs, receipt, tmp_path):
    path = tmp_path / "receipt.png"
    receipt.image.save(path)
    result = Agent(load_settings(**settings_kwargs)).run(
        "What is the total on the receipt and which item is most expensive?", [path])
    assert result.ok, result.notes
    name, _ = receipt.most_expensive
    assert f"{receipt.total:.2f}" in result.answer and name.lower() in result.answer.lower()
    assert {"ocr", "extract", "query"} <= {s.tool for s in result.steps}
    assert set(result.evidence) <= {a["id"] for a in result.artifacts} and result.evidence
    assert result.timings.llm_s > 0 and result.tokens["prompt"] > 0


def test_cli_json_is_one_object_on_stdout(settings_kwargs):
    bus = packaged_photo("bus.jpg")
    env = dict(__import__("os").environ)
    if "model_dir" in settings_kwargs:
        env["MMAGENT_MODEL_DIR"] = str(settings_kwargs["model_dir"])
    out = subprocess.run([sys.executable, "-m", "agent.cli", "ask", "--json", "--image", str(bus),
                          "How many people are in the photo?"], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)  # exactly one JSON object, nothing else on stdout
    assert {"answer", "evidence", "steps", "timings"} <= set(data)
    assert "4" in data["answer"] or "four" in data["answer"].lower()
    assert any(s["tool"] == "detect" for s in data["steps"])
