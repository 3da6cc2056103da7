"""Sliced perception on large images (real detector and OCR) and the zoom tool."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv
from PIL import Image, ImageDraw

from mmagent.core.artifacts import DetectionsArtifact, ImageArtifact, OcrArtifact
from mmagent.core.config import Settings
from mmagent.core.images import grid_tiles, tiling
from mmagent.core.samples import OBJECT_SOURCES, font, skimage_photo
from tests.conftest import ToolEnv

PAGE = (250, 248, 240)


def test_small_images_are_read_whole_and_large_ones_in_tiles():
    assert tiling((960, 640), 640, 2.0) is None  # the synthetic families' sizes: zero tiles
    assert tiling((1200, 900), 1280, 2.0) is None
    assert tiling((4000, 3000), 640, 0.0) is None, "slice_factor 0: never by size"
    assert tiling((4000, 3000), 1280, 2.0, sliced=False) is None
    grid = tiling((4000, 3000), 1280, 2.0)
    assert grid is not None and grid.kind == "grid" and len(grid.tiles) == 12
    covered = np.zeros((3000, 4000), dtype=bool)
    for x1, y1, x2, y2 in grid.tiles:
        assert x2 - x1 <= 1280 and y2 - y1 <= 1280
        covered[y1:y2, x1:x2] = True
    assert covered.all(), "the tiles cover the whole image"
    forced = tiling((1400, 700), 640, 2.0, sliced=True)
    assert forced is not None and len(forced.tiles) == 6


def test_tiles_are_the_ones_supervisions_slicer_cuts():
    seen: list[tuple[int, int]] = []

    def record(part: np.ndarray) -> sv.Detections:
        seen.append(part.shape[:2])
        return sv.Detections.empty()

    t = tiling((3000, 2000), 640, 2.0)
    assert t is not None
    sv.InferenceSlicer(record, slice_wh=t.tile_wh, overlap_wh=t.overlap_wh)(np.zeros((2000, 3000, 3), np.uint8))
    assert len(seen) == len(t.tiles) == len(grid_tiles((3000, 2000), t.tile_wh, t.overlap_wh))


def _large_page(width: int, height: int) -> Image.Image:
    return Image.new("RGB", (width, height), PAGE)


def test_ocr_over_tiles_recovers_small_text_in_full_image_coordinates(settings):
    """24 px text on a 3600x2700 page: read whole, the OCR model shrinks it away; over tiles it
    is read exactly, with its box where it was drawn."""
    page = _large_page(3600, 2700)
    ImageDraw.Draw(page).text((1500, 1300), "GATE 14 NORTH", font=font(24), fill=(0, 0, 0))
    env = ToolEnv(settings)
    img = env.add_image(page)
    whole = env.runner.call("ocr", {"image": img, "sliced": False}, step="s1")
    sliced = env.runner.call("ocr", {"image": img}, step="s2")
    assert not env.store.get(whole.made, OcrArtifact).lines
    art = env.store.get(sliced.made, OcrArtifact)
    assert [ln.text for ln in art.lines] == ["GATE 14 NORTH"]
    x1, y1, x2, y2 = art.lines[0].box
    assert 1490 <= x1 <= 1510 and 1295 <= y1 <= 1315 and x2 > 1600 and y2 < 1340
    assert art.provenance.params["tiles"]["n"] == 12 and art.provenance.params["tiles"]["kind"] == "grid"


def test_detection_over_tiles_finds_small_objects_once_across_tile_borders(settings):
    """A person across the border of two tiles is found once; a cat the whole-image pass
    misses at this size is found in its tile; boxes are in the image's pixels."""
    page = _large_page(1400, 700)
    person = skimage_photo("astronaut").crop(OBJECT_SOURCES["person"][1]).resize((200, 285))
    page.paste(person, (520, 200))  # tiles start at x = 0, 512, 760: it lies in three
    cat = skimage_photo("chelsea").crop(OBJECT_SOURCES["cat"][1]).resize((200, 148))
    page.paste(cat, (1100, 100))
    env = ToolEnv(settings)
    img = env.add_image(page)
    r = env.runner.call("detect", {"image": img, "sliced": True}, step="s1")
    art = env.store.get(r.made, DetectionsArtifact)
    assert sorted(art.class_names) == ["cat", "person"], art.class_names
    boxes = dict(zip(art.class_names, art.boxes))
    assert abs(boxes["person"][0] - 520) < 15 and abs(boxes["person"][3] - 485) < 25
    assert abs(boxes["cat"][0] - 1100) < 15 and abs(boxes["cat"][1] - 100) < 15


def test_blank_tiles_are_not_read_and_one_object_read_under_two_names_is_zoomed_once():
    """On a page with one small object the detector reads only the tiles with ink and the whole
    image; a tile that names the object twice (a cup and a kite) costs one zoom, which names both."""
    from mmagent.tools.detect import detect_tiled

    page = _large_page(3000, 2000)
    page.paste(Image.new("RGB", (120, 120), (40, 40, 40)), (1400, 900))
    reads: list[tuple[int, int]] = []

    def detector(image, conf):  # a cup and a kite at the dark square, in the pixels it was given
        arr = np.asarray(image)
        reads.append(arr.shape[:2])
        ys, xs = np.nonzero(arr.max(axis=2) < 100)
        if not len(xs):
            return sv.Detections.empty()
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        name = "cup" if arr.shape[0] < 640 else None  # the zoom names it a cup, a tile two ways
        names = [name] if name else ["cup", "kite"]
        return sv.Detections(
            xyxy=np.array([box] * len(names), dtype=np.float32),
            confidence=np.array([0.9, 0.6][: len(names)], dtype=np.float32),
            class_id=np.array([47, 38][: len(names)]),
            data={"class_name": np.array(names, dtype=object)},
        )

    t = tiling(page.size, 640, 2.0)
    assert t is not None
    found = detect_tiled(detector, page, 0.25, t)
    inked = [b for b in t.tiles if b[0] < 1520 and b[2] > 1400 and b[1] < 1020 and b[3] > 900]
    tiles_read = [r for r in reads if r[0] == 640 and r[1] == 640]
    assert len(tiles_read) == len(inked) < len(t.tiles), (len(tiles_read), len(inked), len(t.tiles))
    zooms = [r for r in reads if r[0] < 640]
    assert len(zooms) == 1, reads
    assert list(found.data["class_name"]) == ["cup"]
    assert found.xyxy[0].tolist() == [1400, 900, 1520, 1020]


def test_no_tiles_on_a_small_image_and_a_setting_turns_slicing_off(settings):
    env = ToolEnv(settings)
    small = env.add_image(_large_page(960, 640))
    r = env.runner.call("detect", {"image": small}, step="s1")
    assert "tiles" not in env.store.get(r.made).provenance.params
    off = ToolEnv(Settings(**(settings.model_dump() | {"slice_factor": 0})))
    big = off.add_image(_large_page(4000, 3000))
    r = off.runner.call("ocr", {"image": big}, step="s1")
    assert "tiles" not in off.store.get(r.made).provenance.params


def test_zoom_enlarges_a_named_region_or_a_box_and_maps_back(settings):
    env = ToolEnv(settings)
    page = _large_page(2000, 1000)
    ImageDraw.Draw(page).rectangle((1500, 100, 1600, 150), fill=(200, 0, 0))
    img = env.add_image(page)
    r = env.runner.call("zoom", {"image": img, "region": "top-right quarter"}, step="s1")
    zoom = env.store.get(r.made, ImageArtifact)
    assert zoom.parent == img and zoom.region == (1000, 0, 2000, 500) and zoom.image.size == (1024, 512)
    r = env.runner.call("zoom", {"image": img, "box": [1500, 100, 1600, 150], "padding": 0}, step="s2")
    zoom = env.store.get(r.made, ImageArtifact)
    assert zoom.image.size == (400, 200) and "4.0x" in r.observation  # at most 4x
    assert zoom.to_parent((0, 0, 400, 200)) == (1500.0, 100.0, 1600.0, 150.0)
    red = np.asarray(zoom.image)[100, 200]
    assert red[0] > 150 and red[1] < 50
    bad = env.runner.call("zoom", {"image": img, "region": "upstairs"}, step="s3")
    assert not bad.ok and "unknown region 'upstairs'" in bad.observation


@pytest.mark.parametrize("name", ["left half", "bottom right", "middle"])
def test_named_regions(name):
    from mmagent.tools.zoom import named_region

    x1, y1, x2, y2 = named_region(name, 400, 300)
    assert 0 <= x1 < x2 <= 400 and 0 <= y1 < y2 <= 300


def test_a_box_on_a_zoom_maps_back_to_the_input_image_and_hits_the_target(settings):
    from mmagent.evals.metrics import evidence_hit

    env = ToolEnv(settings)
    img = env.add_image(_large_page(2000, 1000))
    first = env.runner.call("zoom", {"image": img, "region": "right half"}, step="s1").made
    second = env.runner.call("zoom", {"image": first, "box": [100, 100, 300, 200], "padding": 0}, step="s2").made
    root, box = env.store.in_input(second, (0, 0, 800, 400))  # the whole second zoom (4x)
    assert root == img and box == pytest.approx((1000 + 100 / 1.024, 100 / 1.024, 1000 + 300 / 1.024, 200 / 1.024))
    assert evidence_hit([list(box)], [[1098, 98, 1293, 195]]) and not evidence_hit([list(box)], [[0, 0, 50, 50]])


def test_which_side_of_one_object_another_is(settings):
    """The program for "Is the cup left or right of the cat?" and the query op it runs."""
    from mmagent.core.artifacts import Provenance, TableArtifact, ValueArtifact
    from mmagent.planners.programs import side_programs

    env = ToolEnv(settings)
    tab = env.store.add(
        TableArtifact,
        Provenance("layout"),
        kind="objects",
        columns=("object", "position"),
        rows=({"object": "cat", "position": "left"}, {"object": "cup", "position": "right"}),
        image_id="img-1",
        label="object",
        row_boxes=((100.0, 500.0, 300.0, 650.0), (2500.0, 100.0, 2600.0, 200.0)),
        vocab={"object": ("cat", "cup", "dog")},
    )
    (program,) = side_programs(tab, "Is the cup to the left or to the right of the cat?")
    assert program.args == {"table": tab.id, "op": "side", "key": "cup", "key2": "cat", "answer": "left-right"}
    assert program.intent == "value"
    r = env.runner.call("query", program.args, step="s1")
    value = env.store.get(r.made, ValueArtifact)
    assert value.value == "right" and value.evidence == (f"{tab.id}#1", f"{tab.id}#0")
    r = env.runner.call("query", program.args | {"answer": "above-below"}, step="s2")
    assert env.store.get(r.made, ValueArtifact).value == "above"
    assert side_programs(tab, "How many cups are there?") == []


def test_a_filled_circle_read_as_o_is_a_shape_not_text():
    from mmagent.tools.structure.regions import solid_glyph

    page = Image.new("RGB", (600, 200), "white")
    d = ImageDraw.Draw(page)
    d.ellipse((20, 40, 130, 150), fill=(245, 140, 30))
    for i, ch in enumerate("O1I8B"):
        d.text((170 + i * 80, 50), ch, font=font(60), fill="black")
    arr = np.asarray(page)
    assert solid_glyph(arr, "O", (5, 25, 150, 170))  # OCR's box is larger than the circle
    assert not any(solid_glyph(arr, ch, (165 + i * 80, 45, 225 + i * 80, 125)) for i, ch in enumerate("O1I8B"))
    assert not solid_glyph(arr, "OK", (5, 25, 150, 170))


def test_grounding_reads_a_large_image_in_tiles_like_detection(settings):
    """'the cup' on a 3600x2700 page: the detector whole sees a 120 px cup at 21 px and misses
    it; grounding reads the image as `detect` does, in tiles, and finds it where it was pasted."""
    page = _large_page(3600, 2700)
    src, box = OBJECT_SOURCES["cup"]
    page.paste(skimage_photo(src).crop(box).resize((120, 120)), (2500, 700))
    env = ToolEnv(settings)
    img = env.add_image(page)
    r = env.runner.call("ground", {"image": img, "phrase": "the cup"}, step="g")
    boxes = env.store.get(r.made, DetectionsArtifact).boxes
    assert len(boxes) == 1, r.observation
    x1, y1, x2, y2 = boxes[0]
    assert abs(x1 - 2500) < 20 and abs(y1 - 700) < 20 and x2 < 2640 and y2 < 840
