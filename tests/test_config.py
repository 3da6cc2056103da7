import pytest

from mmagent.core.config import load_settings
from mmagent.core.errors import ConfigError


def test_defaults_use_embedded_stack():
    s = load_settings()
    assert s.planner.backend == "llamacpp"
    assert s.reasoner == s.planner  # no served LMM: the embedded LLM reasons too
    assert s.detector.backend == "yolo" and s.ocr.backend == "rapidocr"
    assert s.role("captioner").backend  # issue-3 roles are named in the one config


def test_lmm_url_makes_served_model_the_reasoner(monkeypatch):
    monkeypatch.setenv("MMAGENT_LMM_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("MMAGENT_LMM_MODEL", "Qwen/Qwen2.5-VL-7B-Instruct")
    s = load_settings()
    assert s.reasoner.backend == "openai" and s.reasoner.model == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert s.answerer == s.reasoner
    assert s.planner.backend == "llamacpp"


def test_nested_env_and_toml(monkeypatch, tmp_path):
    cfg = tmp_path / "mm.toml"
    cfg.write_text('memory_budget = 2.5\n[detector]\nbackend = "ssd"\n[ocr]\nbackend = "rapidocr"\n')
    monkeypatch.setenv("MMAGENT_CONFIG", str(cfg))
    monkeypatch.setenv("MMAGENT_OCR__BACKEND", "paddleocr")
    s = load_settings()
    assert s.detector.backend == "ssd" and s.memory_budget == 2.5
    assert s.ocr.backend == "paddleocr"  # environment beats the file


def test_bad_config_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MMAGENT_MEMORY_BUDGET", "lots")
    with pytest.raises(ConfigError, match="memory_budget"):
        load_settings()
    monkeypatch.delenv("MMAGENT_MEMORY_BUDGET")
    monkeypatch.setenv("MMAGENT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
    bad = tmp_path / "bad.toml"
    bad.write_text("planner = [unclosed")
    monkeypatch.setenv("MMAGENT_CONFIG", str(bad))
    with pytest.raises(ConfigError, match="could not read"):
        load_settings()


def test_a_misspelt_backend_option_fails_at_start_up_with_its_path():
    from mmagent.core.config import load_settings
    from mmagent.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"planner: .*backend 'llamacpp' options: max_tokenz: Extra inputs"):
        load_settings(planner={"backend": "llamacpp", "options": {"max_tokenz": 256}})
    with pytest.raises(ConfigError, match=r"grounder: .*options: coord_format: Input should be"):
        load_settings(grounder={"backend": "openai", "options": {"coord_format": "inches"}})
    ok = load_settings(planner={"backend": "llamacpp", "options": {"max_tokens": 256}})
    assert ok.planner.options == {"max_tokens": 256}
    assert ok.planner.typed_options.max_tokens == 256 and ok.planner.typed_options.n_gpu_layers == 0  # default


def test_options_as_gives_the_backends_model_or_refuses_another():
    from mmagent.core.options import LlamaCppOptions, OpenAIOptions

    s = load_settings(grounder={"backend": "openai", "options": {"coord_format": "1000"}})
    assert s.grounder.options_as(OpenAIOptions).coord_format == "1000"
    with pytest.raises(TypeError, match="LlamaCppOptions"):
        s.grounder.options_as(LlamaCppOptions)


def test_served_by_says_what_serves_each_role(tmp_path):
    from mmagent.core.resolve import served_by

    s = load_settings(model_dir=tmp_path, lmm_url=None)
    assert served_by("ocr", s) == "embedded, weights packaged with the rapidocr backend"
    assert served_by("planner", s).startswith("embedded, weights from")
    served = load_settings(planner={"backend": "llamacpp", "options": {"server_url": "http://127.0.0.1:9"}})
    assert served_by("planner", served) == "server at http://127.0.0.1:9 (mmagent serve)"
    lost = load_settings(captioner={"backend": "openai"}, lmm_url=None)
    assert served_by("captioner", lost) == "unavailable: no endpoint (set MMAGENT_LMM_URL)"
    missing = load_settings(generator={"backend": "diffusers", "model": "no-such-diffusion"}, model_dir=tmp_path)
    assert served_by("generator", missing).startswith("unavailable: no weights for 'no-such-diffusion'")


def test_an_unknown_backend_fails_at_start_up_naming_the_choices():
    from mmagent.core.config import load_settings
    from mmagent.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"detector.backend: unknown backend 'yolov9' \(use yolo, ssd\)"):
        load_settings(detector={"backend": "yolov9"})
