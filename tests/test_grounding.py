"""Compositional grounding: phrase parsing, box-text parsing, and accuracy on scenes with known boxes."""

import pytest

from bench.grounding import score_grounding
from mmagent.tools.coords import parse_boxes, parse_florence2, parse_kosmos2
from mmagent.tools.ground import parse_phrase
from mmagent.tools.structure.geometry import iou


@pytest.mark.parametrize(
    "phrase,expected",
    [
        (
            "the red car on the left",
            {"classes": ["car"], "colour": "red", "position": "left", "text": None, "shape": None},
        ),
        (
            "the largest person",
            {"classes": ["person"], "colour": None, "position": "largest", "text": None, "shape": None},
        ),
        (
            "the traffic light at the top",
            {"classes": ["traffic light"], "colour": None, "position": "top", "text": None, "shape": None},
        ),
        ("the bus saying 'EMT'", {"classes": ["bus"], "colour": None, "position": None, "text": "EMT", "shape": None}),
        (
            "the small purple circles",
            {"classes": [], "colour": "purple", "position": None, "text": None, "shape": "circle"},
        ),
        (
            "two dogs and a cat",
            {"classes": ["dog", "cat"], "colour": None, "position": None, "text": None, "shape": None},
        ),
    ],
)
def test_parse_phrase(phrase, expected):
    assert parse_phrase(phrase) == expected


def test_parse_boxes_formats():
    # Qwen-VL 0-1000 grid
    assert parse_boxes("<box>(100,200),(500,600)</box>", 200, 100) == [(20.0, 20.0, 100.0, 60.0)]
    # Qwen2.5-VL JSON pixels of the (downscaled) image the model saw
    assert parse_boxes('[{"bbox_2d": [10, 20, 50, 60], "label": "cup"}]', 400, 200, sent_size=(200, 100)) == [
        (20.0, 40.0, 100.0, 120.0)
    ]
    # Shikra 0-1 units; swapped corners are put in order
    assert parse_boxes("[0.5, 0.5, 0.25, 1.0]", 100, 100) == [(25.0, 50.0, 50.0, 100.0)]
    assert parse_boxes("no boxes here", 10, 10) == []
    assert parse_boxes("[5, 5, 5, 9]", 10, 10) == []  # empty box dropped


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0


def test_compositional_grounding_accuracy(settings):
    """Generated scenes (2 of each kind: position, size, colour, text, distractor) and real photos."""
    out = score_grounding(10, settings)
    acc = out["accuracy"]
    assert acc["synthetic_all"]["acc"] >= 0.8, out["failures"]
    assert acc["real-photo"]["acc"] == 1.0, out["failures"]
    for kind in ("position", "size", "text", "distractor"):
        assert acc[kind]["acc"] == 1.0, out["failures"]


def test_parse_grounding_lmm_tokens():
    # Kosmos-2 (Kosmos2Processor's rule): patches 0 and 1023 span the whole 32x32 grid
    k = "<grounding><phrase> a cat</phrase><object><patch_index_0000><patch_index_1023></object>"
    assert parse_kosmos2(k, 640, 320) == [(10.0, 5.0, 630.0, 315.0)]
    assert parse_kosmos2("<patch_index_0033><patch_index_0033>", 32, 32) == [(1.0, 1.0, 2.0, 2.0)]
    # Florence-2: four location bins of 1000
    f = "a cat<loc_0><loc_499><loc_999><loc_999>"
    assert parse_florence2(f, 1000, 200) == [(0.5, 99.9, 999.5, 199.9)]


def test_drawn_shapes_are_grounded_on_a_textured_page(settings):
    """No detector class names a circle: the compositional grounder finds drawn shapes by pixels
    and geometry, a filled circle OCR reads as a letter included, on a faintly textured page."""
    import numpy as np
    from PIL import Image, ImageDraw

    from mmagent.core.samples import font
    from tests.conftest import ToolEnv

    rng = np.random.default_rng(0)
    page = np.clip(np.full((900, 1200, 3), 245.0) + rng.normal(0, 6, (900, 1200, 1)), 0, 255).astype(np.uint8)
    image = Image.fromarray(page)
    d = ImageDraw.Draw(image)
    d.ellipse((200, 300, 360, 460), fill=(135, 60, 175))  # purple circle
    d.rectangle((800, 150, 920, 270), fill=(240, 200, 20))  # yellow square
    d.text((600, 700), "OPEN", font=font(40), fill=(20, 20, 20))
    env = ToolEnv(settings)
    img = env.add_image(image)
    for phrase, where in (("the circle", (200, 300, 360, 460)), ("yellow square", (800, 150, 920, 270))):
        r = env.runner.call("ground", {"image": img, "phrase": phrase}, step="g")
        boxes = env.store.get(r.made).boxes
        assert len(boxes) == 1 and iou(boxes[0], where) > 0.8, (phrase, r.observation)
    assert "purple" in env.runner.call("ground", {"image": img, "phrase": "circle"}, step="h").observation
