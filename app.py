"""Gradio chat UI: `python app.py` (or `.venv/bin/python app.py --port 7860`).

Text plus images in, the agent's steps streamed as collapsible thought messages, then the answer
with its evidence drawn on the images. Each browser session has its own ChatSession (artifact
store and turns) and its own file directory; the server serves files from the app's artifact
root only.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from mmagent.core.config import ROLES, Settings, load_settings
from mmagent.core.errors import MMAgentError, RunCancelled, UserInputError
from mmagent.core.events import Heartbeat
from mmagent.core.images import LoadedImage, load_images
from mmagent.planners import planner_names
from mmagent.session import ChatSession
from mmagent.ui.render import ChatRenderer, is_pending, pending_message

MAX_IMAGES = 4  # per message
MAX_UPLOAD_MB = 10.0
HEARTBEAT_S = 1.0  # how often the status message's elapsed time moves while nothing else happens


@dataclass
class UiSession:
    """One browser session's state: never shared between sessions."""

    root: Path
    chat: ChatSession = field(default_factory=ChatSession)

    @property
    def dir(self) -> Path:
        d = self.root / self.chat.id
        d.mkdir(parents=True, exist_ok=True)
        return d

    def save_image(self, image: Image.Image, name: str) -> Path:
        path = self.dir / Path(name).name  # a bare file name: nothing outside the session's dir
        image.save(path)
        return path


def load_uploads(files: list[Any]) -> list[LoadedImage]:
    """Image uploads only, within the count and size limits, each decoded once here (the agent
    takes them as they are); a clear message otherwise."""
    paths = [Path(f if isinstance(f, str) else f.get("path", "")) for f in files]
    return load_images(paths, max_images=MAX_IMAGES, max_mb=MAX_UPLOAD_MB)


def check_uploads(files: list[Any]) -> list[Path]:
    """The uploads' paths, after the checks of `load_uploads`."""
    return [Path(u.source) for u in load_uploads(files)]


def model_status(settings: Settings) -> str:
    from mmagent.agent import Agent
    from mmagent.core.models import shared_manager
    from mmagent.core.resolve import served_by

    agent = Agent(settings)
    served = agent.settings  # with a running `mmagent serve` attached, when there is one
    lines = ["| role | backend | model | served by |", "|---|---|---|---|"]
    for r in ROLES:
        cfg = served.role(r)
        lines.append(f"| {r} | {cfg.backend} | {cfg.model or '(default)'} | {served_by(r, served)} |")
    lines += ["", "**Tools**", ""]
    lines += [
        f"- `{name}`: " + ("ready" if why is None else f"unavailable: {why}")
        for name, why in agent.tool_status().items()
    ]
    loaded = shared_manager().loaded()
    lines += ["", "**Loaded now**: " + (", ".join(str(k) for k in loaded) or "nothing yet (models load on first use)")]
    return "\n".join(lines)


def respond(
    message: dict[str, Any],
    history: list[dict[str, Any]],
    session: UiSession | None,
    planner: str,
    max_rounds: int,
    max_steps: int,
    all_evidence: bool = False,
    *,
    settings: Settings,
    root: Path,
) -> Iterator[Any]:
    """One chat turn, streamed: (chat history, cleared input box, session). From the moment the
    question shows, a status message below it says what the turn is doing and for how long
    (updated every HEARTBEAT_S while a model works), and that it waits when another session
    has the model."""
    session = session or UiSession(root)
    history = list(history or [])
    renderer: ChatRenderer | None = None
    text = (message or {}).get("text", "").strip()
    files = (message or {}).get("files", []) or []
    try:
        uploads = load_uploads(files)
        stored = []
        for u in uploads:  # the session's own copy, so the chat can show it from the session's dir
            p = Path(u.source)
            dest = session.dir / f"upload-{len(list(session.dir.iterdir()))}{p.suffix.lower() or '.png'}"
            shutil.copyfile(p, dest)
            stored.append(LoadedImage(u.image, str(dest)))
        shown = [Path(d.source) for d in stored]
        history += [{"role": "user", "content": {"path": str(d), "alt_text": d.name}} for d in shown]
        if text:
            history.append({"role": "user", "content": text})
        if not text:
            raise UserInputError("type a question about the image(s)")
        renderer = ChatRenderer(
            history, session.chat.store, session.save_image, pending=pending_message(), all_evidence=all_evidence
        )
        renderer.apply(Heartbeat())  # the status message, before anything loads
        yield history, None, session
        from mmagent.agent import Agent

        run_settings = settings.model_copy(
            update={"planner_kind": planner, "max_rounds": int(max_rounds), "max_steps": int(max_steps)}
        )
        for event in Agent(run_settings).stream(text, stored, session=session.chat, heartbeat_s=HEARTBEAT_S):
            renderer.apply(event)
            yield history, None, session
    except GeneratorExit:  # Stop (the UI cancels this turn): the run stops at its next step
        session.chat.cancel.set()
        raise
    except RunCancelled:
        history.append({"role": "assistant", "content": "Stopped. Ask again when ready."})
    except MMAgentError as exc:  # bad input, unavailable model or server: a message, the chat goes on
        history.append({"role": "assistant", "content": f"Error: {exc}"})
    except Exception as exc:  # never a stack trace in the chat
        history.append({"role": "assistant", "content": f"Error (internal): {type(exc).__name__}: {exc}"})
    finally:
        if renderer is not None:
            renderer.end()
    yield history, None, session


def build_app(settings: Settings | None = None, root: Path | None = None) -> Any:
    import gradio as gr

    settings = settings or load_settings()
    root = root or Path(tempfile.mkdtemp(prefix="mmagent-ui-"))

    def on_submit(message, history, session, planner, rounds, steps, all_evidence):
        yield from respond(
            message, history, session, planner, rounds, steps, all_evidence, settings=settings, root=root
        )

    def on_stop(session: UiSession | None, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stop the turn (running, or queued for the model) and say so in place of its status."""
        if session is not None:
            session.chat.cancel.set()
        kept = [m for m in history or [] if not is_pending(m)]
        if len(kept) < len(history or []):
            kept.append({"role": "assistant", "content": "Stopped. Ask again when ready."})
        return kept

    def on_clear(session: UiSession | None):
        if session is not None:
            session.chat.cancel.set()
            shutil.rmtree(session.dir, ignore_errors=True)
        return [], None

    with gr.Blocks(title="mmagent") as app:
        gr.Markdown("## mmagent: ask about images; the agent plans tool calls and shows its evidence")
        session = gr.State(None)
        chatbot = gr.Chatbot(label="chat", height=560, elem_id="chat")
        box = gr.MultimodalTextbox(
            file_types=["image"],
            file_count="multiple",
            elem_id="input",
            label="Question and images",
            placeholder="Ask about the image(s); attach up to 4 images",
        )
        with gr.Row():
            stop = gr.Button("Stop", elem_id="stop")
            clear = gr.Button("Clear", elem_id="clear")
        with gr.Accordion("Settings", open=False):
            planner = gr.Dropdown(planner_names(), value=settings.planner_kind, label="planner")
            rounds = gr.Slider(1, 8, value=settings.max_rounds, step=1, label="max rounds (ideal, ideal-paper)")
            steps = gr.Slider(1, 16, value=settings.max_steps, step=1, label="max steps (react)")
            all_evidence = gr.Checkbox(
                False,
                label="evidence: every box of the cited artifacts (default: only what the answer came from)",
            )
        with gr.Accordion("Models", open=False):
            status = gr.Markdown(lambda: model_status(settings))
            gr.Button("Refresh").click(lambda: model_status(settings), None, status)
        run = box.submit(
            on_submit, [box, chatbot, session, planner, rounds, steps, all_evidence], [chatbot, box, session]
        )
        stop.click(on_stop, [session, chatbot], [chatbot], cancels=[run])
        clear.click(on_clear, [session], [chatbot, session])
    app.mmagent_root = root
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description="mmagent chat UI")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7860)
    ap.add_argument(
        "--serve",
        action="store_true",
        help="start `mmagent serve` first when none runs: sessions then share one warm model server "
        "that answers several requests at once",
    )
    args = ap.parse_args()
    if args.serve:
        from mmagent.core.llm.server import find_server, start_server

        settings = load_settings()
        state = find_server(settings) or start_server(settings, agent=False)  # the app is the warm agent
        print(f"model server: {state.backend} at {state.url}/v1 (stop it with `mmagent serve --stop`)", flush=True)
    app = build_app()
    app.queue(default_concurrency_limit=8).launch(
        server_name=args.host, server_port=args.port, allowed_paths=[str(app.mmagent_root)]
    )


if __name__ == "__main__":
    main()
