"""Evaluations on Ray (a local cluster started here, 2 CPUs, offline): the same records as the
thread runner, an actor killed mid-run costs nothing, and without Ray nothing imports it."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mmagent.evals.config import RayConfig
from mmagent.evals.runner import agent_answerer, run_questions
from mmagent.evals.synthetic import generate
from tests.conftest import REPO
from tests.fake_agents import schema_agent

ray = pytest.importorskip("ray")

TIMING_KEYS = {"t", "wall_s", "timings", "duration_s"}


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        namespace="mmagent",
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},  # actors import tests.* like this process
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def six(tmp_path):
    return generate(6, seed=5, out_dir=tmp_path / "data", families=("receipt", "sign", "counts"))


def test_ray_and_threads_write_the_same_records(local_ray, six, settings, tmp_path):
    from mmagent.evals.ray_runner import run_on_ray

    threads = tmp_path / "threads.jsonl"
    run_questions(six, agent_answerer(schema_agent(settings)), threads, workers=2, progress=False)
    on_ray = tmp_path / "ray.jsonl"
    summary = run_on_ray(six, functools.partial(schema_agent, settings), "", on_ray, RayConfig(actors=2), False)
    a, b = _rows(threads), _rows(on_ray)
    assert sorted(a) == sorted(b) == sorted(q.id for q in six)
    assert {i: r["prediction"] for i, r in a.items()} == {i: r["prediction"] for i, r in b.items()}
    for qid in a:
        assert list(a[qid]) == list(b[qid]), "same fields in the same order"
        assert _without_timings(a[qid]) == _without_timings(b[qid])
    assert summary["n"] == 6 and summary["ray"]["actors_started"] == 2 and summary["ray"]["questions_retried"] == 0


def test_an_actor_killed_mid_run_costs_no_question(local_ray, six, settings, tmp_path):
    from mmagent.evals.ray_runner import run_on_ray

    out = tmp_path / "killed.jsonl"
    killed: list[str] = []

    def kill_one_actor() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not (out.is_file() and out.read_text().count("\n") >= 1):
            time.sleep(0.02)
        actor = ray.get_actor("mmagent-eval-0", namespace="mmagent")
        ray.kill(actor)  # Ray's own API; it was answering its next question
        killed.append("mmagent-eval-0")

    killer = threading.Thread(target=kill_one_actor)
    killer.start()
    summary = run_on_ray(six, functools.partial(schema_agent, settings), "", out, RayConfig(actors=2), False)
    killer.join()
    ids = [json.loads(ln)["id"] for ln in out.read_text().splitlines()]
    assert killed and sorted(ids) == sorted(q.id for q in six), "every question exactly once"
    assert not any(r.get("error") for r in _rows(out).values())
    assert summary["ray"]["actors_started"] == 3 and summary["ray"]["questions_retried"] >= 1


def test_a_resumed_ray_run_answers_only_what_is_missing(local_ray, six, settings, tmp_path):
    from mmagent.evals.ray_runner import run_on_ray

    out = tmp_path / "resumed.jsonl"
    run_questions(six[:4], agent_answerer(schema_agent(settings)), out, progress=False)
    before = out.read_text()
    summary = run_on_ray(six, functools.partial(schema_agent, settings), "", out, RayConfig(actors=2), False)
    assert out.read_text().startswith(before) and summary["n"] == 6
    assert summary["ray"]["actors_started"] == 2


def test_without_ray_nothing_imports_it(tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('name = "tiny"\n[data]\nsource = "jsonl"\npath = "q.jsonl"\n')
    code = (
        "import sys\n"
        "from mmagent.ui import cli\n"
        "from mmagent.evals import config, runner, datasets\n"
        f"config.load_config({str(cfg)!r})\n"
        "print('ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_num_gpus_per_actor_comes_from_the_config(tmp_path):
    from mmagent.evals.config import load_config

    cfg = tmp_path / "gpu.toml"
    cfg.write_text('name = "g"\n[ray]\nactors = 4\nnum_gpus = 0.5\n')
    ray_cfg = load_config(cfg).ray
    assert ray_cfg is not None and ray_cfg.num_gpus == 0.5 and ray_cfg.actors == 4
    cfg.write_text('name = "g"\n[ray]\nnum_gpu = 1\n')
    from mmagent.core.errors import UserInputError

    with pytest.raises(UserInputError, match="num_gpu"):
        load_config(cfg)


def test_eval_cli_takes_ray_with_or_without_an_address(tmp_path):
    """`mmagent eval CONFIG --ray`: a local cluster, the usual results file (a question whose
    image is missing is recorded, without any model); an address nobody serves is one clear error."""
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": f"m{i}", "question": "what?", "images": [str(tmp_path / "gone.png")], "answer": "x"} for i in range(2)
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = tmp_path / "missing.toml"
    cfg.write_text(f'name = "missing"\n[data]\nsource = "jsonl"\npath = "{questions}"\n[ray]\nactors = 1\n')
    cli = [sys.executable, "-m", "mmagent.ui.cli", "eval", str(cfg), "--out", str(tmp_path / "runs")]
    out = subprocess.run(cli + ["--ray"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout[out.stdout.index("{") :])
    assert summary["n"] == 2 and summary["missing_images"] == 2 and summary["ray"]["actors_started"] == 1
    recorded = _rows(tmp_path / "runs" / "missing-plan" / "results.jsonl")
    assert sorted(recorded) == ["m0", "m1"] and all("image missing" in r["error"] for r in recorded.values())
    bad = subprocess.run(cli + ["--ray", "127.0.0.1:9"], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "no Ray cluster answers at 127.0.0.1:9" in bad.stderr
    assert "Traceback" not in bad.stderr
