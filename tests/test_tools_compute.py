"""extract / query / relate / calculate: deterministic computation, checked by hand."""

import numpy as np
import pytest
import supervision as sv

from mmagent.core.artifacts import DetectionsArtifact, OcrArtifact, OcrLine, Provenance, TableArtifact, ValueArtifact


def _table(env, rows, fields=None):
    return env.store.add(
        TableArtifact,
        Provenance("test"),
        kind="line_items",
        columns=("name", "amount"),
        rows=tuple(rows),
        fields=fields or {},
        source="ocr-0",
    ).id


ROWS = [{"name": "Tea", "amount": 3.5}, {"name": "Steak", "amount": 24.0}, {"name": "Bread", "amount": 2.25}]


@pytest.mark.parametrize(
    "args,value",
    [
        ({"op": "max"}, "Steak"),
        ({"op": "min"}, "Bread"),
        ({"op": "max", "answer": "amount"}, 24.0),
        ({"op": "sum"}, 29.75),
        ({"op": "mean"}, 9.92),
        ({"op": "count"}, 3),
        ({"op": "count_where", "where": "gt", "value": 3}, 2),
        ({"op": "count_where", "where": "le", "value": "3.5"}, 2),
        ({"op": "lookup", "key": "total"}, 29.75),
        ({"op": "lookup", "key": "steak"}, 24.0),
        ({"op": "sort"}, ["Steak", "Tea", "Bread"]),
        ({"op": "difference", "key": "total", "key2": "Tea"}, 26.25),
    ],
)
def test_query_ops(tool_env, args, value):
    env = tool_env()
    tab = _table(env, ROWS, {"total": 29.75})
    r = env.call("query", table=tab, **args)
    assert r.ok, r.observation
    assert env.store.get(r.primary, ValueArtifact).value == value


def test_query_errors_name_the_problem(tool_env):
    env = tool_env()
    tab = _table(env, ROWS)
    assert "no column 'price'" in env.call("query", table=tab, op="max", column="price").observation
    assert "'milk' not found" in env.call("query", table=tab, op="lookup", key="milk").observation
    assert "needs where" in env.call("query", table=tab, op="count_where").observation
    assert (
        "tab artifact is needed"
        in env.call(
            "query", table=env.add_image(__import__("PIL.Image").Image.new("RGB", (4, 4))), op="max"
        ).observation
    )


def _scene(env):
    """A cat with a number printed under it, a dog with another number, and a title above."""
    det = env.store.add(
        DetectionsArtifact,
        Provenance("test"),
        image_id="img-0",
        detections=sv.Detections(
            xyxy=np.array([[100, 100, 300, 300], [400, 120, 560, 280]], dtype=np.float32),
            confidence=np.array([0.9, 0.8], dtype=np.float32),
            class_id=np.array([15, 16]),
            data={"class_name": np.array(["cat", "dog"], dtype=object)},
        ),
    )
    ocr = env.store.add(
        OcrArtifact,
        Provenance("test"),
        image_id="img-0",
        lines=(
            OcrLine("PETS", (250, 20, 400, 60), 0.99),
            OcrLine("42", (170, 320, 230, 350), 0.98),
            OcrLine("17", (450, 300, 510, 330), 0.97),
            OcrLine("inside", (150, 150, 250, 180), 0.9),
        ),
    )
    return det.id, ocr.id


@pytest.mark.parametrize(
    "args,value",
    [
        ({"relation": "below", "class_name": "cat"}, "42"),
        ({"relation": "below", "class_name": "dog"}, "17"),
        ({"relation": "above", "class_name": "cat"}, "PETS"),
        ({"relation": "inside", "class_name": "cat"}, ["inside"]),
        ({"relation": "count_inside", "class_name": "cat"}, 1),
        ({"relation": "right_of", "class_name": "cat"}, None),
    ],
)
def test_relate_text_around_objects(tool_env, args, value):
    env = tool_env()
    det, ocr = _scene(env)
    r = env.call("relate", subject=det, target=ocr, **args)
    assert r.ok, r.observation
    assert env.store.get(r.primary, ValueArtifact).value == value


def test_relate_picks_among_subjects(tool_env):
    env = tool_env()
    det, _ = _scene(env)
    assert env.store.get(env.call("relate", relation="leftmost", subject=det).primary).value == "cat"
    assert env.store.get(env.call("relate", relation="rightmost", subject=det).primary).value == "dog"
    assert env.store.get(env.call("relate", relation="largest", subject=det).primary).value == "cat"
    r = env.call("relate", relation="below", subject=det, class_name="horse", target=det)
    assert not r.ok and "no horse" in r.observation
    assert "needs target" in env.call("relate", relation="below", subject=det).observation


def test_calculate_over_values_and_rejects_code(tool_env):
    env = tool_env()
    a = env.store.add(ValueArtifact, Provenance("test"), value=69.95, statement="total").id
    b = env.store.add(ValueArtifact, Provenance("test"), value={"name": "Steak", "amount": 24.0}, statement="max").id
    r = env.call("calculate", expression=f"{a} - {b}")
    assert r.ok and env.store.get(r.primary).value == pytest.approx(45.95)
    assert env.store.get(env.call("calculate", expression="round(2 ** 10 / 3, 2)").primary).value == 341.33
    for bad, msg in [
        ("__import__('os').system('true')", "not allowed"),
        ("().__class__", "not allowed"),
        ("1/0", "division by zero"),
        ("2 ** 1000", "too large"),
        ("1 +", "cannot parse"),
        ("val-99 + 1", "unknown artifact id 'val-99'"),
        ("", "empty"),
    ]:
        r = env.call("calculate", expression=bad)
        assert not r.ok and msg in r.observation, (bad, r.observation)


OCR_RECEIPT = ["CITY GROCER", "Salmon $8.10", "Cheddar $14.55", "Coffee Beans $21.55", "TOTAL $44.20"]


def _ocr(env, lines):
    return env.store.add(
        OcrArtifact,
        Provenance("test"),
        image_id="img-0",
        lines=tuple(OcrLine(t, (0, i * 20, 100, i * 20 + 18), 0.9) for i, t in enumerate(lines)),
    ).id


def test_extract_keeps_only_rows_printed_in_the_text(tool_env, scripted):
    chat = scripted(
        {
            "items": [
                {"name": "Salmon", "amount": 8.10},
                {"name": "Cheddar", "amount": 14.55},
                {"name": "Coffee Beans", "amount": 21.55},
                {"name": "Caviar", "amount": 99.0},
                {"name": "TOTAL", "amount": 44.20},
            ],
            "total": 44.20,
        }
    )
    env = tool_env(chat)
    r = env.call("extract", source=_ocr(env, OCR_RECEIPT))
    assert r.ok, r.observation
    tab = env.store.get(r.primary, TableArtifact)
    assert [row["name"] for row in tab.rows] == ["Salmon", "Cheddar", "Coffee Beans"]
    assert tab.fields == {"total": 44.2}
    assert "Caviar=99.0" in r.observation  # invented row dropped and reported
    fmt = chat.calls[0]["kwargs"]["response_format"]
    assert fmt["type"] == "json_schema" and "items" in fmt["json_schema"]["schema"]["properties"]


def test_extract_repairs_once_then_fails_clearly(tool_env, scripted):
    good = {"items": [{"name": "Salmon", "amount": 8.1}], "total": None}
    env = tool_env(scripted("not json at all", good))
    r = env.call("extract", source=_ocr(env, OCR_RECEIPT))
    assert r.ok and env.store.get(r.primary).rows[0]["name"] == "Salmon"
    env = tool_env(scripted("nope", {"items": "wrong"}))
    r = env.call("extract", source=_ocr(env, OCR_RECEIPT))
    assert not r.ok and "invalid LineItems twice" in r.observation
