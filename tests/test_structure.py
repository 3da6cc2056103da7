"""Structure from pixels and OCR, checked exactly on rendered fixtures (real PP-OCR, real
OpenCV), and on a real photo; the attributes tool on drawn shapes and real photos."""

import random

import pytest
from PIL import Image, ImageDraw

from mmagent.core.artifacts import OcrLine, OcrWord, TableArtifact
from mmagent.core.samples import Style, font, render_receipt, skimage_photo
from mmagent.tools.structure.geometry import pick_position, position_name, position_word
from mmagent.tools.structure.phrases import phrases_of
from mmagent.tools.structure.receipt import parse_receipt, split_amount
from mmagent.tools.structure.text import mention_score, mentioned, parse_number


def layout(env, image):
    img = env.add_image(image)
    ocr = env.call("ocr", image=img)
    det = env.call("detect", image=img)
    out = env.call("layout", image=img, ocr=ocr.primary, detections=det.primary)
    assert out.ok, out.observation
    return {t.kind: t for t in (env.store.get(a, TableArtifact) for a in out.artifact_ids)}


# -- pure functions ---------------------------------------------------------------------------
def test_numbers_and_ocr_tolerant_names():
    assert parse_number("$1,204.50") == 1204.5 and parse_number("45%") == 45 and parse_number("$ 3.10") == 3.1
    assert parse_number("25 50") is None and parse_number("Receipt") is None
    assert mention_score("Yogut", "How much does the Yogurt cost?") >= 0.8  # OCR dropped a letter
    assert mention_score("Tea", "How much is the bread?") < 0.8
    assert mentioned(["Tea", "Green Tea", "Bagel"], "Is the Bagel dearer than the Green Tea?") == [2, 1]
    assert split_amount("Olive Oil ..... $16.35") == ("Olive Oil", 16.35)
    assert split_amount("Receipt #4821") is None and split_amount("12/03/2024 14:05") is None


def test_positions():
    assert position_name((400, 400, 500, 450), 500, 480) == "bottom-right"
    assert position_word("the upper left corner") == "top-left" and position_word("left, middle or right") is None
    boxes = [(0, 0, 10, 10), (0, 200, 10, 210), (0, 400, 10, 410)]
    assert [pick_position(boxes, w, 50, 480) for w in ("top", "middle", "bottom")] == [0, 1, 2]


def test_receipt_rows_and_fields_from_lines():
    lines = [
        OcrLine(t, (0, 40 * i, 400, 40 * i + 30), 0.99)
        for i, t in enumerate(
            [
                "FRESH FOODS",
                "12 Main St",
                "Receipt #4821",
                "Honey $20.17",
                "2 x Bagel 3.10",
                "SUBTOTAL $23.27",
                "TAX $1.86",
                "TOTAL $25.13",
                "THANK YOU",
            ]
        )
    ]
    r = parse_receipt(lines)
    assert [(i.label, i.amount) for i in r.items] == [("Honey", 20.17), ("Bagel", 3.10)]
    assert {k: v.amount for k, v in r.fields.items()} == {"subtotal": 23.27, "tax": 1.86, "total": 25.13}


def test_phrases_split_at_wide_gaps_and_drop_reads_inside_pictures():
    words = (
        OcrWord("North", (10, 0, 80, 30), 0.9),
        OcrWord("South", (200, 0, 270, 30), 0.9),
        OcrWord("Green", (300, 0, 370, 30), 0.9),
        OcrWord("Tea", (380, 0, 420, 30), 0.9),
    )
    line = OcrLine("North South Green Tea", (10, 0, 420, 30), 0.9, words)
    assert [p.text for p in phrases_of([line])] == ["North", "South", "Green Tea"]
    big = OcrLine("8", (0, 0, 300, 200), 0.9, (OcrWord("8", (0, 0, 300, 200), 0.9),))
    assert phrases_of([big], image_height=400) == []  # one character in a photo-sized box


# -- layout on rendered fixtures (real OCR) ---------------------------------------------------
def test_layout_reads_a_receipt_with_fields(tool_env):
    r = render_receipt(seed=3, n_items=5, style=Style(typeface="DejaVuSerif.ttf"), extras=True)
    items = layout(tool_env(), r.image)["items"]
    assert [(row["item"], row["price"]) for row in items.rows] == list(r.items)
    assert items.fields == {"subtotal": round(sum(p for _, p in r.items), 2), "tax": r.tax, "total": r.total}
    assert all(items.row_boxes) and set(items.field_boxes) == {"subtotal", "tax", "total"}


def test_layout_reads_a_table_with_its_header(tool_env):
    img = Image.new("RGB", (640, 260), "white")
    d = ImageDraw.Draw(img)
    rows = [
        ("Name", "City", "Age", "Score"),
        ("Alice", "Paris", "34", "88"),
        ("Bruno", "Lima", "27", "92"),
        ("Carmen", "Tokyo", "45", "75"),
    ]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            d.text((20 + c * 150, 20 + r * 55), cell, font=font(28), fill="black")
    table = layout(tool_env(), img)["table"]
    assert table.columns == ("Name", "City", "Age", "Score") and table.label_column == "Name"
    assert table.rows == (
        {"Name": "Alice", "City": "Paris", "Age": 34.0, "Score": 88.0},
        {"Name": "Bruno", "City": "Lima", "Age": 27.0, "Score": 92.0},
        {"Name": "Carmen", "City": "Tokyo", "Age": 45.0, "Score": 75.0},
    )
    assert table.numeric_columns() == ["Age", "Score"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_layout_reads_bar_charts(tool_env, tmp_path, seed):
    """Vertical and horizontal bars; values printed on them or read off the axis."""
    from mmagent.evals.synthetic import chart_question

    q = chart_question(random.Random(f"structure:{seed}"), f"chart{seed}", tmp_path)
    bars = layout(tool_env(), Image.open(q.images[0]).convert("RGB"))["bars"]
    assert {r["category"]: r["value"] for r in bars.rows} == {k: float(v) for k, v in q.meta["values"].items()}


def test_layout_reads_collage_panels_with_their_labels_and_objects(tool_env, tmp_path):
    from mmagent.evals.synthetic import collage_question

    q = collage_question(random.Random("structure:collage"), "collage", tmp_path)
    panels = layout(tool_env(), Image.open(q.images[0]).convert("RGB"))["panels"]
    assert len(panels.rows) == {"row3": 3, "row2": 2, "grid": 4}[q.meta["layout"]]
    labelled = {r["text"] for r in panels.rows}
    assert set(q.distractors) | {q.answer} <= labelled if q.metric != "choice" else len(labelled) == len(panels.rows)
    assert any("cat" in r["objects"] or "cup" in r["objects"] or "person" in r["objects"] for r in panels.rows)


def test_layout_reads_shapes_colours_and_their_numbers(tool_env, tmp_path):
    from mmagent.evals.synthetic import shapes_question

    q = shapes_question(random.Random("structure:shapes"), "shapes", tmp_path)
    shapes = layout(tool_env(), Image.open(q.images[0]).convert("RGB"))["shapes"]
    got = sorted((r["text"], r["colour"], r["shape"]) for r in shapes.rows)
    assert got == sorted((str(s["number"]), s["colour"], s["shape"]) for s in q.meta["scene"])


def test_layout_of_a_real_photo(tool_env):
    """bus.jpg: no document structure; its objects and the text on the bus, with positions."""
    from mmagent.core.samples import packaged_photo

    views = layout(tool_env(), Image.open(packaged_photo("bus.jpg")).convert("RGB"))
    assert "items" not in views and "table" not in views and "bars" not in views
    objects = views["objects"]
    assert [r["object"] for r in objects.rows].count("person") == 4 and "bus" in [r["object"] for r in objects.rows]
    assert any("emisiones" in r["text"].lower() for r in views["text"].rows)


# -- attributes: colour and shape -------------------------------------------------------------
def test_attributes_of_drawn_shapes(tool_env):
    img = Image.new("RGB", (420, 160), (245, 245, 240))
    d = ImageDraw.Draw(img)
    d.ellipse((20, 20, 120, 120), fill=(220, 40, 40))
    d.rectangle((160, 20, 260, 120), fill=(40, 80, 220))
    d.polygon([(350, 20), (300, 120), (400, 120)], fill=(40, 170, 70))
    env = tool_env()
    image = env.add_image(img)
    got = [
        env.store.get(env.call("attributes", image=image, box=b).primary, TableArtifact).rows[0]
        for b in ([10, 10, 130, 130], [150, 10, 270, 130], [290, 10, 410, 130])
    ]
    assert [(r["colour"], r["shape"]) for r in got] == [("red", "circle"), ("blue", "square"), ("green", "triangle")]
    assert 90 <= got[0]["width"] <= 110


def test_attributes_of_real_photos(tool_env):
    """chelsea's cat is a brown tabby; coffee's cup is white with orange-brown coffee."""
    env = tool_env()
    cat = env.add_image(skimage_photo("chelsea"))
    det = env.call("detect", image=cat)
    row = env.store.get(env.call("attributes", image=cat, detections=det.primary, index=0).primary, TableArtifact).rows[
        0
    ]
    assert row["region"].endswith("cat") and row["colour"] == "brown"
    cup = env.add_image(skimage_photo("coffee"))
    row = env.store.get(env.call("attributes", image=cup, box=[170, 18, 425, 300]).primary, TableArtifact).rows[0]
    assert "white" in row["colours"] and ("orange" in row["colours"] or "brown" in row["colours"])


def test_attributes_errors_name_the_problem(tool_env):
    env = tool_env()
    image = env.add_image(Image.new("RGB", (20, 20), (255, 0, 0)))
    assert env.store.get(env.call("attributes", image=image).primary, TableArtifact).rows[0]["colour"] == "red"
    bad = env.call("attributes", image=image, box=[0, 0, 5, 5], detections="det-9")
    assert not bad.ok and "one of detections, mask or box" in bad.observation
