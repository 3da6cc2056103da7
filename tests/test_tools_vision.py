"""detect / ocr / crop on their real packaged models and real images; content is asserted."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mmagent.core.artifacts import DetectionsArtifact, ImageArtifact, OcrArtifact
from mmagent.core.samples import font, packaged_photo
from mmagent.tools.ocr import join_lines


def test_yolo_finds_the_cat_in_chelsea(tool_env, chelsea):
    env = tool_env()
    r = env.call("detect", image=env.add_image(chelsea))
    assert r.ok, r.observation
    det = env.store.get(r.primary, DetectionsArtifact)
    assert "cat" in det.class_names
    assert det.provenance.model.startswith("yolo:") and det.provenance.tool == "detect"
    i = det.class_names.index("cat")
    x1, y1, x2, y2 = det.detections.xyxy[i]
    assert (x2 - x1) * (y2 - y1) > 0.2 * chelsea.width * chelsea.height  # the cat fills the photo


def test_yolo_counts_people_on_bus_photo_with_class_filter(tool_env):
    env = tool_env()
    img = env.add_image(Image.open(packaged_photo("bus.jpg")).convert("RGB"))
    r = env.call("detect", image=img, classes=["people"])  # plural + synonym normalised
    det = env.store.get(r.primary, DetectionsArtifact)
    assert set(det.class_names) == {"person"} and len(det.class_names) == 4


def test_openvino_runtime_reads_a_yolo_export_as_ultralytics_does(settings, chelsea):
    """The direct OpenVINO backend (no torch import) against ultralytics running the same export:
    the same objects, the same confidences, boxes within a pixel."""
    from mmagent.core.resolve import resolve_model
    from mmagent.tools.detect import OpenVinoYoloDetector, YoloDetector, is_openvino_export

    location = resolve_model(settings.detector.model, settings).location
    if not is_openvino_export(location):
        pytest.skip(f"the configured detector {location} is not an OpenVINO export")
    direct, reference = OpenVinoYoloDetector(Path(location)), YoloDetector(location, "cpu")
    for image in (Image.open(packaged_photo("bus.jpg")).convert("RGB"), chelsea):
        a, b = direct(image, 0.25), reference(image, 0.25)
        assert len(a) == len(b) > 0
        ia, ib = np.argsort(-a.confidence), np.argsort(-b.confidence)
        assert list(a.data["class_name"][ia]) == list(b.data["class_name"][ib])
        np.testing.assert_allclose(a.confidence[ia], b.confidence[ib], atol=1e-4)
        np.testing.assert_allclose(a.xyxy[ia], b.xyxy[ib], atol=1.0)


def test_ssd_fallback_backend_finds_the_cat(settings, tool_env, chelsea):
    settings.detector = settings.detector.model_copy(update={"backend": "ssd", "model": None})
    env = tool_env()
    r = env.call("detect", image=env.add_image(chelsea), min_confidence=0.5)
    assert r.ok, r.observation
    det = env.store.get(r.primary, DetectionsArtifact)
    assert det.provenance.model == "ssd-mobilenet-v2-coco" and "cat" in det.class_names


def test_yolo_unresolvable_falls_back_to_ssd(settings, tool_env, chelsea, tmp_path):
    settings.model_dir = tmp_path  # no YOLO weights here, hub not allowed
    env = tool_env()
    r = env.call("detect", image=env.add_image(chelsea))
    assert r.ok and env.store.get(r.primary).provenance.model == "ssd-mobilenet-v2-coco"


def _text_image(lines: list[str]) -> Image.Image:
    img = Image.new("RGB", (760, 60 + 60 * len(lines)), "white")
    d = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        d.text((30, 30 + 60 * i), line, font=font(36), fill="black")
    return img


def test_ocr_reads_rendered_lines_exactly_in_order(tool_env):
    env = tool_env()
    lines = ["Invoice 4821 total $73.19", "Paid by card"]
    r = env.call("ocr", image=env.add_image(_text_image(lines)))
    assert r.ok, r.observation
    ocr = env.store.get(r.primary, OcrArtifact)
    assert [ln.text for ln in ocr.lines] == lines
    assert all(0 < ln.score <= 1 for ln in ocr.lines)
    assert ocr.lines[0].box[1] < ocr.lines[1].box[1]


def test_join_lines_merges_words_by_row():
    words = [
        ("total", (120, 12, 180, 30), 0.9),
        ("Invoice", (10, 10, 100, 30), 0.95),
        ("second", (10, 60, 90, 80), 0.8),
    ]
    out = join_lines(words)
    assert [ln.text for ln in out] == ["Invoice total", "second"]
    assert out[0].box == (10, 10, 180, 30) and out[0].score == 0.9


def test_crop_by_box_and_by_detection(tool_env, chelsea):
    env = tool_env()
    img = env.add_image(chelsea)
    r = env.call("crop", image=img, box=[10, 20, 110, 70])
    crop = env.store.get(r.primary, ImageArtifact)
    assert crop.image.size == (100, 50) and crop.parent == img and crop.region == (10, 20, 110, 70)
    assert np.array_equal(np.asarray(crop.image), np.asarray(chelsea)[20:70, 10:110])
    det = env.call("detect", image=img)
    r2 = env.call("crop", source=det.primary, index=0, padding=4)
    assert r2.ok and env.store.get(r2.primary, ImageArtifact).parent == img


@pytest.mark.parametrize(
    "args,msg",
    [
        ({"box": [10, 10, 5, 50]}, "empty"),
        ({"box": [5000, 10, 6000, 50]}, "outside"),
        ({"box": [1, 2, 3]}, "four numbers"),
        ({}, "exactly one of box or source"),
    ],
)
def test_crop_bad_boxes_are_tool_errors(tool_env, chelsea, args, msg):
    env = tool_env()
    r = env.call("crop", image=env.add_image(chelsea), **args)
    assert not r.ok and msg in r.observation


def test_unknown_artifact_is_an_error_for_the_model_not_a_crash(tool_env):
    env = tool_env()
    r = env.call("ocr", image="img-42")
    assert not r.ok and "unknown artifact id 'img-42'" in r.observation
    r = env.call("detect", image="img-1", min_confidence=3)
    assert not r.ok and "bad arguments for detect" in r.observation
