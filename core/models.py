"""The one model manager: lazy loading, one shared instance per process, memory budget.

Tools ask `ModelManager.get(key, loader, size_bytes)`; nothing loads until that first call.
Tool models above the budget (`MMAGENT_MEMORY_BUDGET`, GB) are evicted least-recently-used
first; pinned models (the planner LLM) are never evicted.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class LoadedModel:
    key: str
    instance: Any
    size_bytes: int
    pinned: bool
    load_s: float
    last_used: float


def size_on_disk(path: str | Path) -> int:
    """Weights size as a memory estimate (int8/fp16 files load to about their own size)."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return 0


def pick_device(requested: str = "auto") -> str:
    """cuda when present, then mps, else cpu; an explicit request is honoured as given."""
    if requested != "auto":
        return requested
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _return_freed_memory() -> None:
    """Ask glibc to give freed heap pages back to the OS, so eviction lowers RSS (best effort)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def pick_dtype(device: str, fp16: bool | None = None):
    """fp16 on CUDA (unless turned off), fp32 elsewhere: CPU half precision is slow or unsupported."""
    import torch

    use_half = device.startswith("cuda") if fp16 is None else (fp16 and not device.startswith("cpu"))
    return torch.float16 if use_half else torch.float32


class ModelManager:
    def __init__(self, budget_gb: float | None = None, measure_rss: bool = True) -> None:
        self.budget_bytes = int(budget_gb * 1e9) if budget_gb else None
        self.measure_rss = measure_rss
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.RLock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.evictions: list[str] = []

    def get(
        self,
        key: str,
        loader: Callable[[], T],
        size_bytes: int | Callable[[], int] = 0,
        pinned: bool = False,
    ) -> T:
        """The shared instance for `key`, loading it on first use. A callable size is only
        evaluated on a miss, so a hit costs one dict lookup (tools call this per image)."""
        with self._lock:
            hit = self._models.get(key)
            if hit is not None:
                hit.last_used = time.time()
                self._models.move_to_end(key)
                return hit.instance
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # Load outside the manager lock so other models stay usable; one loader per key.
        with key_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key].instance
            size = size_bytes() if callable(size_bytes) else size_bytes
            self._make_room(size)
            t0 = time.perf_counter()
            rss0 = _rss() if self.measure_rss else 0
            instance = loader()
            # Account what loading really took when that is more than the weights on disk
            # (runtimes build graphs and caches); inference workspace is not counted.
            if self.measure_rss:
                size = max(size, _rss() - rss0)
            entry = LoadedModel(key, instance, size, pinned, time.perf_counter() - t0, time.time())
            with self._lock:
                self._models[key] = entry
            return instance

    def _make_room(self, incoming: int) -> None:
        if self.budget_bytes is None:
            return
        with self._lock:
            while self._models and self.resident_bytes() + incoming > self.budget_bytes:
                victim = next((k for k, m in self._models.items() if not m.pinned), None)
                if victim is None:
                    break
                self.evict(victim)

    def evict(self, key: str) -> None:
        with self._lock:
            entry = self._models.pop(key, None)
        if entry is None:
            return
        self.evictions.append(key)
        release = getattr(entry.instance, "close", None)
        if callable(release):
            release()
        del entry
        gc.collect()
        _return_freed_memory()
        torch = sys.modules.get("torch")  # only a process that loaded torch has its cache to free
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def resident_bytes(self) -> int:
        return sum(m.size_bytes for m in self._models.values())

    def loaded(self) -> list[dict[str, Any]]:
        """What is resident now, most recently used last."""
        with self._lock:
            return [
                {
                    "key": m.key,
                    "size_mb": round(m.size_bytes / 1e6, 1),
                    "pinned": m.pinned,
                    "load_s": round(m.load_s, 3),
                }
                for m in self._models.values()
            ]


_shared: ModelManager | None = None
_shared_lock = threading.Lock()


def shared_manager(budget_gb: float | None = None) -> ModelManager:
    """The process-wide manager, so every agent and session shares loaded models."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ModelManager(budget_gb)
        elif budget_gb is not None:
            _shared.budget_bytes = int(budget_gb * 1e9)
        return _shared
