"""`python -m tests.adversarial.audited ARGS...`: the mmagent CLI with Python's audit hooks
recording every file it opens and every process it starts, and its peak resident memory,
written as JSON lines to $MMAGENT_AUDIT_LOG at exit. Native libraries (llama.cpp, ONNX Runtime) open their own files
below Python and are not seen; every file a tool or planner opens goes through Python."""

from __future__ import annotations

import atexit
import json
import os
import sys

_events: list[dict[str, object]] = []


def _hook(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        mode = (
            args[1]
            if isinstance(args[1], str)
            else ("w" if (args[2] or 0) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) else "r")
        )
        _events.append({"event": "open", "path": os.fsdecode(args[0]), "mode": mode})
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        _events.append({"event": event, "args": repr(args)[:300]})


def _write() -> None:
    import resource

    log = os.environ.get("MMAGENT_AUDIT_LOG")
    if log:
        _events.append({"event": "rss", "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        with open(log, "w") as fh:
            fh.writelines(json.dumps(e) + "\n" for e in _events)


if __name__ == "__main__":
    sys.addaudithook(_hook)
    atexit.register(_write)
    sys.argv = ["mmagent", *sys.argv[1:]]
    from mmagent.ui.cli import main

    main()
