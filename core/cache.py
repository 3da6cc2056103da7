"""On-disk tool-call cache: (tool, the role's model config, input image content, arguments) ->
the artifact a perception tool made. A rerun with another planner or reasoner reuses the
detections, OCR, captions ... instead of recomputing them.

Only tools that declare `cache_roles` and whose artifact-valued arguments are images are cached;
a hit re-creates the artifact in the current store under a new id (provenance says `cached`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mmagent.core.artifacts import Artifact, ArtifactStore, ImageArtifact, Provenance


def image_digest(art: ImageArtifact) -> str:
    """Content hash of the pixels (mode and size included); no encoding needed."""
    h = hashlib.sha256(f"{art.image.mode}:{art.image.size}".encode())
    h.update(art.image.tobytes())
    return h.hexdigest()


class ToolCache:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        # id(artifact) -> (weak reference, digest): the reference guards against a freed
        # artifact's id being reused by a new one (the cache outlives runs).
        self._digests: dict[int, tuple[weakref.ref, str]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def key(
        self,
        tool: str,
        role_config: dict[str, Any],
        args: dict[str, Any],
        store: ArtifactStore,
        artifact_args: Iterable[str],
    ) -> str | None:
        """None when the call is not cacheable (it refers to a non-image artifact).
        `artifact_args`: the arguments that hold artifact ids (the tool declares them)."""
        keyed = dict(args)
        refs = set(artifact_args)
        for name, value in args.items():
            if name not in refs:
                continue
            art = store.get(value) if isinstance(value, str) else None
            if not isinstance(art, ImageArtifact):
                return None
            keyed[name] = f"image:{self._digest(art)}"
        blob = json.dumps({"tool": tool, "model": role_config, "args": keyed}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _digest(self, art: ImageArtifact) -> str:
        with self._lock:
            known = self._digests.get(id(art))
            if known is not None and known[0]() is art:
                return known[1]
        digest = image_digest(art)
        with self._lock:
            self._digests[id(art)] = (weakref.ref(art), digest)
        return digest

    def load(self, key: str, store: ArtifactStore, image_id: str) -> tuple[Artifact, str] | None:
        path = self.dir / f"{key}.pkl"
        if not path.is_file():
            self.misses += 1
            return None
        try:
            entry = pickle.loads(path.read_bytes())
        except Exception:  # a torn or stale entry is a miss, never an error
            self.misses += 1
            return None
        self.hits += 1
        old = entry["image_id"]

        def renamed(text: str) -> str:  # the cached image's id, where it has one, becomes this image's
            return text.replace(old, image_id) if old else text  # ("".replace would go between every letter)

        fields = {k: (renamed(v) if isinstance(v, str) else v) for k, v in entry["fields"].items()}
        if "image_id" in fields:
            fields["image_id"] = image_id
        prov = Provenance(entry["tool"], (image_id,), entry["params"] | {"cached": True}, entry["model"], 0.0)
        art = store.add(entry["cls"], prov, **fields)
        return art, renamed(entry["suffix"])

    def save(self, key: str, art: Artifact, observation: str) -> None:
        fields = {f.name: getattr(art, f.name) for f in dataclasses.fields(art) if f.name not in ("id", "provenance")}
        summary = art.summary()
        entry = {
            "cls": type(art),
            "fields": fields,
            "tool": art.provenance.tool,
            "params": art.provenance.params,
            "model": art.provenance.model,
            "image_id": getattr(art, "image_id", "") or "",
            "suffix": observation[len(summary) :] if observation.startswith(summary) else "",
        }
        tmp = self.dir / f"{key}.tmp"
        tmp.write_bytes(pickle.dumps(entry))
        tmp.replace(self.dir / f"{key}.pkl")
