"""Public benchmark adapters on small fixtures in the official formats, written by the tests."""
import json

import pytest

from agent.errors import UserInputError
from evals.adapters import aokvqa, docvqa, gqa, snli_ve, textvqa, vqav2
from evals.config import DataConfig
from evals.metrics import score


def _write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


def test_vqav2(tmp_path):
    q = _write(tmp_path / "q.json", {"questions": [{"image_id": 42, "question": "How many cats?", "question_id": 420}]})
    a = _write(tmp_path / "a.json", {"annotations": [{"question_id": 420, "image_id": 42, "answer_type": "number",
                                                      "answers": [{"answer": "2"}] * 7 + [{"answer": "3"}] * 3}]})
    [item] = vqav2(DataConfig(source="vqav2", path=q, annotations=a, image_root=str(tmp_path), split="val2014"))
    assert item.images[0].endswith("COCO_val2014_000000000042.jpg") and item.metric == "vqa"
    assert score(item.metric, "two", item.answer) == 1.0
    # 3 humans said "3": leaving out a "2" (7 subsets) -> min(3/3, 1); leaving out a "3" (3) -> 2/3
    assert score(item.metric, "3", item.answer) == pytest.approx((7 * 1.0 + 3 * 2 / 3) / 10)



def test_gqa_balanced_binary_open(tmp_path):
    q = _write(tmp_path / "g.json", {
        "1": {"imageId": "n1", "question": "Is the cat black?", "answer": "yes", "isBalanced": True,
              "types": {"structural": "verify"}},
        "2": {"imageId": "n2", "question": "What is on the table?", "answer": "cup", "isBalanced": True,
              "types": {"structural": "query"}},
        "3": {"imageId": "n3", "question": "x?", "answer": "no", "isBalanced": False, "types": {}},
    })
    items = gqa(DataConfig(source="gqa", path=q, image_root="/imgs"))
    assert [(i.id, i.family) for i in items] == [("1", "binary"), ("2", "open")]
    assert items[1].images == ["/imgs/n2.jpg"]


def test_textvqa_and_docvqa(tmp_path):
    t = _write(tmp_path / "t.json", {"data": [{"question_id": 1, "question": "brand?", "image_id": "abc",
                                               "answers": ["nokia"] * 10}]})
    [ti] = textvqa(DataConfig(source="textvqa", path=t, image_root="/i"))
    assert ti.images == ["/i/abc.jpg"] and score(ti.metric, "Nokia", ti.answer) == 1.0
    d = _write(tmp_path / "d.json", {"data": [{"questionId": 7, "question": "date?", "image": "documents/x.png",
                                               "answers": ["1 May 2020", "May 1, 2020"]}]})
    [di] = docvqa(DataConfig(source="docvqa", path=d, image_root="/docs"))
    assert di.images == ["/docs/documents/x.png"] and di.metric == "anls"
    assert score(di.metric, "1 May 2021", di.answer) == pytest.approx(1 - 1 / 10)


def test_malformed_files_name_the_file_and_field(tmp_path):
    with pytest.raises(UserInputError, match="questions file not found"):
        textvqa(DataConfig(source="textvqa", path=str(tmp_path / "none.json")))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserInputError, match="bad.json is not valid JSON"):
        docvqa(DataConfig(source="docvqa", path=str(bad)))
    q = _write(tmp_path / "q.json", {"data": [{"question_id": 1, "question": "x"}]})
    with pytest.raises(UserInputError, match="no 'image_id' field"):
        textvqa(DataConfig(source="textvqa", path=q))
    q = _write(tmp_path / "q2.json", {"questions": [{"image_id": 1, "question": "x", "question_id": 5}]})
    a = _write(tmp_path / "a2.json", {"annotations": []})
    with pytest.raises(UserInputError, match="no annotation for question_id 5"):
        vqav2(DataConfig(source="vqav2", path=q, annotations=a))


def test_aokvqa_mc_and_direct_answer(tmp_path):
    rec = {"question_id": "a1", "image_id": 9, "question": "What is the man holding?",
           "choices": ["kite", "bat", "cup", "dog"], "correct_choice_idx": 1, "direct_answers": ["bat"] * 10}
    q = _write(tmp_path / "a.json", [rec])
    [mc] = aokvqa(DataConfig(source="aokvqa", path=q, image_root="/coco", mode="mc"))
    assert mc.images == ["/coco/val2017/000000000009.jpg"] and mc.answer == "bat" and mc.choices[0] == "kite"
    assert score(mc.metric, "He holds a bat.", mc.answer, mc.choices) == 1.0
    assert score(mc.metric, "a kite or a bat", mc.answer, mc.choices) == 0.0
    [da] = aokvqa(DataConfig(source="aokvqa", path=q, mode="da"))
    assert da.metric == "vqa" and score(da.metric, "bat", da.answer) == 1.0


def test_snli_ve(tmp_path):
    p = tmp_path / "ve.jsonl"
    p.write_text(json.dumps({"pairID": "p1", "Flickr30K_ID": "123", "sentence2": "A dog runs.",
                             "gold_label": "contradiction"}) + "\n")
    [q] = snli_ve(DataConfig(source="snli-ve", path=str(p), image_root="/f30k"))
    assert q.images == ["/f30k/123.jpg"] and q.answer == "contradiction" and "A dog runs." in q.question
    p.write_text(json.dumps({"pairID": "p2", "Flickr30K_ID": "1", "sentence2": "x", "gold_label": "maybe"}) + "\n")
    with pytest.raises(UserInputError, match="gold_label 'maybe'"):
        snli_ve(DataConfig(source="snli-ve", path=str(p)))
