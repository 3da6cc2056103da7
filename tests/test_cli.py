"""The CLI: fast help, one-line errors with exit code 2 for bad input, no tracebacks."""

import subprocess
import sys

import pytest
from PIL import Image


def mmagent(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "mmagent.ui.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\nsys.argv = ['mmagent', '--help']\nfrom mmagent.ui.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'ultralytics', 'langchain_core', 'xllamacpp', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "ask" in out.stdout and out.stdout.strip().endswith("[]")


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "ok.png"
    Image.new("RGB", (20, 20)).save(good)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    notimg = tmp_path / "doc.jpg"
    notimg.write_text("hello")
    return {"good": good, "empty": empty, "notimg": notimg, "dir": tmp_path}


@pytest.mark.parametrize(
    "case,args,msg",
    [
        ("missing", ["ask", "what?", "--image", "nope/missing.png"], "image not found"),
        ("dir", ["ask", "what?", "--image", "{dir}"], "is a directory"),
        ("empty", ["ask", "what?", "--image", "{empty}"], "empty file"),
        ("notimg", ["ask", "what?", "--image", "{notimg}"], "not an image"),
        ("question", ["ask", "  ", "--image", "{good}"], "question is empty"),
        ("noimage", ["ask", "what is this?"], "at least one image"),
    ],
)
def test_bad_input_exit_2_with_one_line(files, case, args, msg):
    args = [a.format(**files) for a in args]
    out = mmagent(*args)
    assert out.returncode == 2, out.stderr
    assert msg in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stdout == ""


def test_bad_config_is_exit_2(files, monkeypatch):
    import os

    env = dict(os.environ, MMAGENT_MEMORY_BUDGET="lots")
    out = mmagent("ask", "what?", "--image", str(files["good"]), env=env)
    assert out.returncode == 2 and "memory_budget" in out.stderr and "Traceback" not in out.stderr


def test_models_command_lists_roles_without_loading(files):
    out = mmagent("models")
    assert out.returncode == 0, out.stderr
    assert "planner" in out.stdout and "detector" in out.stdout
    lines = {ln.split()[0]: ln for ln in out.stdout.splitlines() if ln.startswith("  ")}
    assert "ready" in lines["detect"] and "ready" in lines["classify"]
    assert "embedded, weights from" in lines["planner"] and "packaged with the scene-summary" in lines["captioner"]
    assert "unavailable: no vision-language model" in lines["ask_image"]
    assert "unavailable: no offline weights" in lines["generate_image"]
