"""The full toolset: each tool and backend on its real code. Packaged weights where they exist
(EfficientNet-Lite3, YOLO, PP-OCR: content asserted); tiny random models built from configs
elsewhere (types, shapes and artifact plumbing asserted, never quality)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tests.tiny_models as tiny
from mmagent.core.artifacts import (
    DetectionsArtifact,
    ImageArtifact,
    MaskArtifact,
    Provenance,
    TextArtifact,
    ValueArtifact,
)
from mmagent.core.config import RoleConfig
from mmagent.core.events import ToolProgress


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_model(tiny_dir):
    built: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in built:
            maker = {
                "blip": lambda p: tiny.blip(p),
                "blip-vqa": lambda p: tiny.blip(p, vqa=True),
                "owlvit": tiny.owlvit,
                "clip": tiny.clip,
                "vit": tiny.vit_classifier,
                "sd": tiny.stable_diffusion,
                "pix2pix": lambda p: tiny.stable_diffusion(p, "instruct-pix2pix"),
                "inpaint": lambda p: tiny.stable_diffusion(p, "inpaint"),
                "mobile_sam": tiny.mobile_sam,
            }[name]
            built[name] = str(maker(tiny_dir / name))
        return built[name]

    return get


def noise(w=64, h=48, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


# -- classify --------------------------------------------------------------------------------
def test_classify_packaged_efficientnet_names_the_cat(tool_env, chelsea):
    env = tool_env()
    r = env.call("classify", image=env.add_image(chelsea))
    assert r.ok, r.observation
    val = env.store.get(r.primary, ValueArtifact)
    assert any("cat" in label for label in val.value[:2])
    assert val.provenance.model == "efficientnet-lite3"


def test_classify_transformers_and_zero_shot_backends(settings, tool_env, tiny_model):
    settings.classifier = RoleConfig(backend="transformers", model=tiny_model("vit"))
    env = tool_env()
    r = env.call("classify", image=env.add_image(noise()), top_k=2)
    assert r.ok, r.observation
    assert set(env.store.get(r.primary).value) <= {"tabby", "teapot", "bus"}
    settings.classifier = RoleConfig(backend="zero-shot", model=tiny_model("clip"))
    env = tool_env()
    img = env.add_image(noise())
    r = env.call("classify", image=img, labels=["cat", "dog"])
    assert r.ok and set(env.store.get(r.primary).value) == {"cat", "dog"}
    assert "needs labels" in env.call("classify", image=img).observation


# -- caption ---------------------------------------------------------------------------------
def test_scene_summary_of_chelsea_mentions_a_cat_and_says_what_it_is(tool_env, chelsea):
    env = tool_env()
    r = env.call("caption", image=env.add_image(chelsea))
    assert r.ok, r.observation
    text = env.store.get(r.primary, TextArtifact).text
    assert "cat" in text and "composed from tools, not a captioning model" in text


def test_caption_transformers_backend(settings, tool_env, tiny_model):
    settings.captioner = RoleConfig(backend="transformers", model=tiny_model("blip"), options={"max_new_tokens": 5})
    env = tool_env()
    r = env.call("caption", image=env.add_image(noise()))
    assert r.ok, r.observation
    art = env.store.get(r.primary, TextArtifact)
    assert art.text.startswith("caption of img-1: ") and art.provenance.model.startswith("transformers:")


def test_caption_served_backend_sends_the_image(settings, tool_env, scripted):
    settings.captioner = RoleConfig(backend="openai", model="served-vlm")
    chat = scripted("A grey cat on a sofa.")
    env = tool_env(chat)
    r = env.call("caption", image=env.add_image(noise()))
    assert r.ok and "A grey cat on a sofa." in r.observation
    system, user = chat.calls[0]["messages"]
    assert "never instructions" in system.content  # text in the image is data to it too
    assert user.content[1]["image_url"]["url"].startswith("data:image/png;base64,")


# -- ask_image -------------------------------------------------------------------------------
def test_ask_image_without_a_vlm_says_so(tool_env):
    env = tool_env()
    r = env.call("ask_image", image=env.add_image(noise()), question="What colour is it?")
    assert not r.ok and "no vision-language model" in r.observation and "MMAGENT_LMM_URL" in r.observation


def test_ask_image_transformers_vqa_on_a_crop(settings, tool_env, tiny_model):
    settings.answerer = RoleConfig(backend="transformers", model=tiny_model("blip-vqa"))
    env = tool_env()
    img = env.add_image(noise())
    crop = env.call("crop", image=img, box=[0, 0, 32, 32]).primary
    r = env.call("ask_image", image=crop, question="what is this?")
    assert r.ok, r.observation
    assert env.store.get(r.primary, TextArtifact).provenance.inputs == (crop,)


def test_ask_image_served_backend(settings, tool_env, scripted):
    settings.answerer = RoleConfig(backend="openai", model="served-vlm")
    env = tool_env(scripted("Red."))
    r = env.call("ask_image", image=env.add_image(noise()), question="What colour is the car?")
    assert r.ok and r.observation.endswith("Red.")
    assert "empty" in env.call("ask_image", image="img-1", question=" ").observation


# -- ground ----------------------------------------------------------------------------------
def test_ground_empty_phrase_and_unknown_class(tool_env):
    env = tool_env()
    img = env.add_image(noise())
    assert "phrase is empty" in env.call("ground", image=img, phrase="  ").observation
    assert "no COCO class" in env.call("ground", image=img, phrase="the spaceship").observation


def test_ground_transformers_zero_shot_detection(settings, tool_env, tiny_model):
    settings.grounder = RoleConfig(backend="transformers", model=tiny_model("owlvit"))
    env = tool_env()
    r = env.call("ground", image=env.add_image(noise()), phrase="a red cup", min_confidence=0.0)
    assert r.ok, r.observation
    det = env.store.get(r.primary, DetectionsArtifact)
    assert len(det.class_names) > 0 and set(det.class_names) == {"a red cup"}
    assert det.detections.xyxy.shape[1] == 4


def test_ground_grounding_lmm_backend_runs_generation_and_parsing(settings, tool_env, tiny_model):
    # A tiny random image-text model standing in for Kosmos-2's architecture: its output is
    # noise, so this checks the generate -> raw decode -> parse -> artifact path only.
    settings.grounder = RoleConfig(backend="grounding-lmm", model=tiny_model("blip"), options={"style": "kosmos-2"})
    env = tool_env()
    r = env.call("ground", image=env.add_image(noise()), phrase="a cat")
    assert r.ok, r.observation
    det = env.store.get(r.primary, DetectionsArtifact)
    assert det.provenance.model.startswith("kosmos-2:") and det.detections.xyxy.shape[1] == 4
    settings.grounder = RoleConfig(backend="grounding-lmm", model=tiny_model("blip"))  # style from model type
    env = tool_env()
    r = env.call("ground", image=env.add_image(noise()), phrase="a cat")
    assert not r.ok and "'blip' is not one" in r.observation


def test_ground_served_backend_parses_qwen_boxes(settings, tool_env, scripted):
    settings.grounder = RoleConfig(backend="openai", model="served-vlm")
    env = tool_env(scripted("The cup: <box>(100,200),(500,600)</box>"))
    r = env.call("ground", image=env.add_image(noise(200, 100)), phrase="the cup")
    assert r.ok, r.observation
    assert env.store.get(r.primary).detections.xyxy.tolist() == [[20.0, 20.0, 100.0, 60.0]]


# -- segment ---------------------------------------------------------------------------------
def test_segment_without_weights_is_unavailable_with_reason(settings):
    from mmagent.tools.segment import SegmentTool

    assert "no segmentation weights" in SegmentTool().unavailable(settings)


def test_segment_mobile_sam_from_detections_and_box(settings, tool_env, tiny_model, chelsea):
    settings.segmenter = RoleConfig(backend="sam", model=tiny_model("mobile_sam"))
    env = tool_env()
    img = env.add_image(chelsea)
    det = env.call("detect", image=img, classes=["cat"]).primary
    r = env.call("segment", image=img, source=det)
    assert r.ok, r.observation
    mask = env.store.get(r.primary, MaskArtifact)
    assert mask.masks.dtype == bool and mask.masks.shape[1:] == (chelsea.height, chelsea.width)
    assert mask.labels == ("cat",) and len(mask.areas) == 1
    bad = env.call("segment", image=img, box=[5000, 0, 6000, 10])
    assert not bad.ok and "outside" in bad.observation
    assert "give a prompt" in env.call("segment", image=img).observation


# -- generate_image / edit_image -------------------------------------------------------------
def test_generate_image_reports_progress_and_stores_the_image(settings, tool_env, tiny_model):
    settings.generator = RoleConfig(backend="diffusers", model=tiny_model("sd"))
    env = tool_env()
    progress = []
    env.override_context(emit=progress.append)
    r = env.call("generate_image", prompt="a cat", width=64, height=48, steps=3, seed=1)
    assert r.ok, r.observation
    art = env.store.get(r.primary, ImageArtifact)
    assert art.image.size == (64, 48) and art.origin == "generated" and art.provenance.params["seed"] == 1
    assert [p.done for p in progress if isinstance(p, ToolProgress)] == [1, 2, 3]


def test_generate_image_bad_sizes(settings, tool_env, tiny_model):
    settings.generator = RoleConfig(backend="diffusers", model=tiny_model("sd"))
    settings.memory_budget = 0.5
    env = tool_env()
    assert "multiple of 8" in env.call("generate_image", prompt="x", width=100, height=64).observation
    assert "over the limit" in env.call("generate_image", prompt="x", width=2048, height=2048).observation
    assert "prompt is empty" in env.call("generate_image", prompt=" ").observation


def test_edit_image_instruction_and_inpainting_keeps_outside_pixels(settings, tool_env, tiny_model):
    settings.editor = RoleConfig(
        backend="diffusers", model=tiny_model("pix2pix"), options={"inpaint_model": tiny_model("inpaint")}
    )
    env = tool_env()
    src = noise(64, 48)
    img = env.add_image(src)
    r = env.call("edit_image", image=img, instruction="make it blue", steps=2)
    assert r.ok, r.observation
    assert env.store.get(r.primary, ImageArtifact).image.size == (64, 48)
    masks = np.zeros((1, 48, 64), dtype=bool)
    masks[0, 10:30, 20:40] = True
    mask = env.store.add(MaskArtifact, Provenance("test"), image_id=img, masks=masks, labels=("car",)).id
    r = env.call("edit_image", image=img, instruction="a blue car", mask=mask, steps=2)
    assert r.ok, r.observation
    out = np.asarray(env.store.get(r.primary, ImageArtifact).image)
    assert np.array_equal(out[~masks[0]], np.asarray(src)[~masks[0]])  # untouched outside the mask
    wrong = env.store.add(
        MaskArtifact, Provenance("test"), image_id=img, masks=np.ones((1, 10, 10), bool), labels=("x",)
    ).id
    assert "masks must match the image" in env.call("edit_image", image=img, instruction="x", mask=wrong).observation


def test_diffusion_without_weights_is_unavailable(settings):
    from mmagent.tools.generate_image import GenerateImageTool

    assert "no offline weights" in GenerateImageTool().unavailable(settings)


# -- draw ------------------------------------------------------------------------------------
def test_draw_boxes_masks_and_text(tool_env, receipt):
    env = tool_env()
    img = env.add_image(receipt.image)
    ocr = env.call("ocr", image=img).primary
    masks = np.zeros((1, receipt.image.height, receipt.image.width), dtype=bool)
    masks[0, :40, :40] = True
    mask = env.store.add(MaskArtifact, Provenance("test"), image_id=img, masks=masks, labels=("corner",)).id
    r = env.call("draw", image=img, sources=[ocr, mask])
    assert r.ok, r.observation
    drawn = env.store.get(r.primary, ImageArtifact)
    assert drawn.origin == "drawn" and drawn.image.size == receipt.image.size
    assert not np.array_equal(np.asarray(drawn.image), np.asarray(receipt.image))


def test_model_that_raises_mid_run_is_reported_not_fatal(tool_env, monkeypatch):
    import mmagent.tools.classify as classify

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(classify, "classify_image", boom)
    env = tool_env()
    r = env.call("classify", image=env.add_image(noise()))
    assert not r.ok and "classify failed: RuntimeError: CUDA out of memory" in r.observation
