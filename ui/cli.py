"""`mmagent` command line. Only typer and rich load at start-up: `--help` stays fast;
torch, ultralytics and the LLM load inside the commands, on first use."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mmagent.planners import planner_names

app = typer.Typer(
    name="mmagent",
    help="Answer questions about images with a planner LLM and real vision tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int) -> None:
    typer.echo(f"mmagent: error: {message}", err=True)
    raise typer.Exit(code)


def _guarded(fn: Any) -> Any:
    """Turn our errors into one clear line and an exit code: 2 for bad input, 1 otherwise."""
    from mmagent.core.errors import MMAgentError, UserInputError

    try:
        return fn()
    except UserInputError as exc:
        _fail(str(exc), 2)
    except MMAgentError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except typer.Exit:
        raise
    except Exception as exc:
        if os.environ.get("MMAGENT_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set MMAGENT_DEBUG=1 for a traceback)", 1)


def _settings(planner: str | None, model_dir: Path | None) -> Any:
    from mmagent.core.config import load_settings

    overrides: dict[str, Any] = {}
    if planner:
        overrides["planner_kind"] = planner
    if model_dir:
        overrides["model_dir"] = model_dir
    return load_settings(**overrides)


def _check_inputs(question: str, images: list[Path]) -> None:
    from mmagent.core.errors import UserInputError
    from mmagent.core.images import probe_image
    from mmagent.core.question import clean_question

    clean_question(question)  # an empty or overlong question fails before any model loads
    if not images:
        raise UserInputError("give at least one image with --image PATH")
    for p in images:  # fail fast, before any model loads
        probe_image(p)


def _warm_agent_url(settings: Any) -> str | None:
    """The running `mmagent serve`'s warm agent, unless discovery is off or an explicit served
    LMM (MMAGENT_LMM_URL) asks for a differently configured agent. The agent keeps the settings
    it was started with (`--planner` is passed on with each question)."""
    if settings.server == "off" or settings.lmm_url:
        return None
    from mmagent.core.llm.server import find_server

    state = find_server(settings)
    return state.agent_url if state is not None and state.agent_url else None


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question about the image(s)")],
    image: Annotated[list[Path], typer.Option("--image", "-i", help="image file (repeatable)")] = [],  # noqa: B006 (typer's list default)
    as_json: Annotated[bool, typer.Option("--json", help="print exactly one JSON object on stdout")] = False,
    planner: Annotated[str | None, typer.Option(help=f"planner: {' | '.join(planner_names())}")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="directory with model weights")] = None,
) -> None:
    """Answer QUESTION about one or more images; prints the answer and a readable trace."""

    def go() -> None:
        _check_inputs(question, image)
        from mmagent.core.trace import TracePrinter

        settings = _settings(planner, model_dir)
        printer = TracePrinter(to_stderr=as_json)
        warm = _warm_agent_url(settings)
        if warm:  # `mmagent serve` keeps an agent with its tool models loaded: hand it the question
            from mmagent.agent_server import ask_agent

            result = ask_agent(warm, question, image, planner, on_event=printer)
        else:
            from mmagent.agent import Agent
            from mmagent.core.images import load_images

            result = Agent(settings).run(question, load_images(image), on_event=printer)  # decoded once, here
        if as_json:
            sys.stdout.write(json.dumps(result.model_dump(), default=str) + "\n")
        else:
            printer.final(result)
        if not warm:
            _fast_exit()

    _guarded(go)


def _fast_exit() -> None:
    """End a one-question process now: run the exit hooks (the LLM's prompt cache is saved by
    one) and skip the interpreter's teardown of torch, OpenVINO and the model servers, which
    took 1.7 s of a 8.6 s cold question."""
    import atexit

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(0)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(help="where the example images are written")] = Path("examples"),
    model_dir: Annotated[Path | None, typer.Option(help="directory with model weights")] = None,
) -> None:
    """Make example images and answer multi-step questions about them on the offline stack."""

    def go() -> None:
        from mmagent.ui.demo import run_demo

        ok = run_demo(out_dir, _settings(None, model_dir))
        raise typer.Exit(0 if ok else 1)

    _guarded(go)


@app.command()
def models(
    model_dir: Annotated[Path | None, typer.Option(help="directory with model weights")] = None,
) -> None:
    """Each role's backend and model, where its weights resolve, and which tools can run (nothing loads)."""

    def go() -> None:
        from mmagent.agent import Agent
        from mmagent.core.config import ROLES
        from mmagent.core.llm.server import attach_running_server
        from mmagent.core.resolve import served_by

        s = attach_running_server(_settings(None, model_dir))
        typer.echo("roles:")
        for role in ROLES:
            cfg = s.role(role)
            typer.echo(f"  {role:10} {cfg.backend:18} {cfg.model or '-':34} {served_by(role, s)}")
        typer.echo("tools:")
        for name, reason in Agent(s).tool_status().items():
            typer.echo(f"  {name:15} {'ready' if reason is None else 'unavailable: ' + reason}")

    _guarded(go)


@app.command()
def serve(
    backend: Annotated[str, typer.Option(help="auto (vLLM on a CUDA GPU, else llama.cpp) | llamacpp | vllm")] = "auto",
    port: Annotated[int, typer.Option(help="port of the server (llama.cpp: the next ports for more models)")] = 8765,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    slots: Annotated[
        int, typer.Option(help="llama.cpp: requests served in parallel, each slot with its own prompt cache")
    ] = 2,
    model: Annotated[str | None, typer.Option(help="vLLM: the model to serve (default MMAGENT_LMM_MODEL)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait until the server answers")] = 300.0,
    agent: Annotated[
        bool,
        typer.Option(
            "--agent/--no-agent", help="also keep a warm agent (tool models loaded) that `ask` hands questions to"
        ),
    ] = True,
    status: Annotated[bool, typer.Option("--status", help="say whether a server runs, and where")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="stop the running server")] = False,
    model_dir: Annotated[Path | None, typer.Option(help="directory with model weights")] = None,
) -> None:
    """Start a warm OpenAI-compatible model server that `ask`, `eval`, the UI and the API then use."""

    def go() -> None:
        from mmagent.core.llm import server as srv

        s = _settings(None, model_dir)
        if stop:
            state = srv.stop_server(s)
            typer.echo(f"stopped the server at {state.url} (pid {state.pid})" if state else "no server was running")
            return
        if status:
            state = srv.find_server(s)
            if state is None:
                typer.echo("no mmagent server is running; `mmagent serve` starts one")
                raise typer.Exit(1)
            typer.echo(
                f"running: {state.backend} at {state.url}/v1 (pid {state.pid}, {state.slots} slots, "
                f"up {(time.time() - state.started_at) / 60:.1f} min); log {state.log}"
            )
            for path, url in state.models.items():
                typer.echo(f"  {url}/v1  {path}")
            if state.served_model:
                typer.echo(f"  model {state.served_model}")
            if state.agent_url:
                typer.echo(f"  warm agent {state.agent_url} (pid {state.agent_pid}): `mmagent ask` uses it")
            return
        t0 = time.perf_counter()
        state = srv.start_server(
            s, backend=backend, host=host, port=port, slots=slots, timeout_s=timeout, model=model, agent=agent
        )
        typer.echo(
            f"mmagent serve: {state.backend} ready at {state.url}/v1 in {time.perf_counter() - t0:.1f} s "
            f"(pid {state.pid}); log {state.log}"
        )
        if state.agent_url:
            typer.echo(f"warm agent (tool models loaded) at {state.agent_url} (pid {state.agent_pid})")
        typer.echo("`mmagent ask`, `mmagent eval`, app.py and Agent() now use it; `mmagent serve --stop` stops it.")

    _guarded(go)


@app.command(name="eval")
def eval_cmd(
    target: Annotated[list[str], typer.Argument(help="CONFIG.toml to run, or: report RUN_DIR [RUN_DIR ...]")],
    planner: Annotated[str | None, typer.Option(help="planner override")] = None,
    limit: Annotated[int | None, typer.Option(help="random subset of N questions")] = None,
    seed: Annotated[int, typer.Option(help="seed of the random subset")] = 0,
    workers: Annotated[int | None, typer.Option(help="questions in flight")] = None,
    out: Annotated[Path, typer.Option(help="where runs are written")] = Path("runs"),
    replay: Annotated[Path | None, typer.Option(help="re-score a recorded run (its dir) without models")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="directory with model weights")] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="spread questions over Ray actors: a local cluster, or the one at ADDRESS (needs the ray extra)",
        ),
    ] = None,
) -> None:
    """Run an evaluation config (resumable; one JSON line per question), or `eval report RUN...`."""

    def go() -> None:
        import json as _json

        from mmagent.core.errors import UserInputError

        if target[0] == "report":
            if len(target) < 2:
                raise UserInputError("eval report needs at least one run directory")
            from mmagent.evals.report import write_report

            runs = [Path(t) for t in target[1:]]
            path = write_report(runs, out / ("report-" + "-vs-".join(r.name for r in runs)))
            typer.echo(f"report written: {path}")
            return
        from mmagent.evals.config import load_config
        from mmagent.evals.datasets import load_questions
        from mmagent.evals.runner import agent_answerer, run_questions

        cfg = load_config(target[0])
        updates = {k: v for k, v in {"planner": planner, "limit": limit, "workers": workers}.items() if v}
        if updates or seed:
            cfg = cfg.model_copy(update=updates | {"subset_seed": seed})
        run_dir = out / f"{cfg.name}-{cfg.planner}"  # runs of different planners sit side by side
        run_dir.mkdir(parents=True, exist_ok=True)
        questions = load_questions(cfg, run_dir)
        (run_dir / "config.json").write_text(cfg.model_dump_json(indent=2))
        if replay is not None:
            from mmagent.evals.runner import replay as replay_run

            source = replay / "results.jsonl" if replay.is_dir() else replay
            if not source.is_file():
                raise UserInputError(f"no recorded results to replay at {source}")
            typer.echo(_json.dumps(replay_run(source, questions, run_dir / "results.replay.jsonl"), indent=2))
            return
        from mmagent.agent import Agent
        from mmagent.core.config import load_settings

        overrides = {"tool_cache": True} | cfg.settings | {"planner_kind": cfg.planner}
        if model_dir:
            overrides["model_dir"] = model_dir
        settings = load_settings(**overrides)
        if ray is not None:
            from mmagent.evals.config import RayConfig

            address = None if ray == "local" else ray
            cfg = cfg.model_copy(update={"ray": (cfg.ray or RayConfig()).model_copy(update={"address": address})})
            (run_dir / "config.json").write_text(cfg.model_dump_json(indent=2))
        if cfg.ray is not None:
            import functools

            from mmagent.evals.ray_runner import run_on_ray

            make_agent = functools.partial(Agent, settings)  # built in each actor
            summary = run_on_ray(questions, make_agent, cfg.prompt_suffix, run_dir / "results.jsonl", cfg.ray)
        else:
            summary = run_questions(
                questions, agent_answerer(Agent(settings), cfg.prompt_suffix), run_dir / "results.jsonl", cfg.workers
            )
        typer.echo(_json.dumps(summary, indent=2))

    _guarded(go)


def with_optional_values(argv: list[str], options: dict[str, str]) -> list[str]:
    """`--ray` alone means `--ray local`: typer has no option with an optional value, so the
    value is filled in when the next word is not one (another option, a config file, nothing).

    >>> with_optional_values(["eval", "c.toml", "--ray"], {"--ray": "local"})
    ['eval', 'c.toml', '--ray', 'local']
    """
    out: list[str] = []
    for i, word in enumerate(argv):
        out.append(word)
        following = argv[i + 1] if i + 1 < len(argv) else None
        if word in options and (following is None or following.startswith("-") or following.endswith(".toml")):
            out.append(options[word])
    return out


def main() -> None:
    import sys

    app(args=with_optional_values(sys.argv[1:], {"--ray": "local"}))


if __name__ == "__main__":
    main()
