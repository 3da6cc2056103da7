"""Public benchmark adapters on small fixtures in the official formats, written by the tests."""

import json
import pickle

import pytest

from mmagent.core.errors import UserInputError
from mmagent.evals.adapters import aokvqa, docvqa, gqa, refcoco, scienceqa, snli_ve, textvqa, vcr, vqav2
from mmagent.evals.config import DataConfig
from mmagent.evals.metrics import score


def _write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


def test_vqav2(tmp_path):
    q = _write(tmp_path / "q.json", {"questions": [{"image_id": 42, "question": "How many cats?", "question_id": 420}]})
    a = _write(
        tmp_path / "a.json",
        {
            "annotations": [
                {
                    "question_id": 420,
                    "image_id": 42,
                    "answer_type": "number",
                    "answers": [{"answer": "2"}] * 7 + [{"answer": "3"}] * 3,
                }
            ]
        },
    )
    [item] = vqav2(DataConfig(source="vqav2", path=q, annotations=a, image_root=str(tmp_path), split="val2014"))
    assert item.images[0].endswith("COCO_val2014_000000000042.jpg") and item.metric == "vqa"
    assert score(item.metric, "two", item.answer) == 1.0
    # 3 humans said "3": leaving out a "2" (7 subsets) -> min(3/3, 1); leaving out a "3" (3) -> 2/3
    assert score(item.metric, "3", item.answer) == pytest.approx((7 * 1.0 + 3 * 2 / 3) / 10)


def test_gqa_balanced_binary_open(tmp_path):
    q = _write(
        tmp_path / "g.json",
        {
            "1": {
                "imageId": "n1",
                "question": "Is the cat black?",
                "answer": "yes",
                "isBalanced": True,
                "types": {"structural": "verify"},
            },
            "2": {
                "imageId": "n2",
                "question": "What is on the table?",
                "answer": "cup",
                "isBalanced": True,
                "types": {"structural": "query"},
            },
            "3": {"imageId": "n3", "question": "x?", "answer": "no", "isBalanced": False, "types": {}},
        },
    )
    items = gqa(DataConfig(source="gqa", path=q, image_root="/imgs"))
    assert [(i.id, i.family) for i in items] == [("1", "binary"), ("2", "open")]
    assert items[1].images == ["/imgs/n2.jpg"]


def test_textvqa_and_docvqa(tmp_path):
    t = _write(
        tmp_path / "t.json",
        {"data": [{"question_id": 1, "question": "brand?", "image_id": "abc", "answers": ["nokia"] * 10}]},
    )
    [ti] = textvqa(DataConfig(source="textvqa", path=t, image_root="/i"))
    assert ti.images == ["/i/abc.jpg"] and score(ti.metric, "Nokia", ti.answer) == 1.0
    d = _write(
        tmp_path / "d.json",
        {
            "data": [
                {
                    "questionId": 7,
                    "question": "date?",
                    "image": "documents/x.png",
                    "answers": ["1 May 2020", "May 1, 2020"],
                }
            ]
        },
    )
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
    rec = {
        "question_id": "a1",
        "image_id": 9,
        "question": "What is the man holding?",
        "choices": ["kite", "bat", "cup", "dog"],
        "correct_choice_idx": 1,
        "direct_answers": ["bat"] * 10,
    }
    q = _write(tmp_path / "a.json", [rec])
    [mc] = aokvqa(DataConfig(source="aokvqa", path=q, image_root="/coco", mode="mc"))
    assert mc.images == ["/coco/val2017/000000000009.jpg"] and mc.answer == "bat" and mc.choices[0] == "kite"
    assert score(mc.metric, "He holds a bat.", mc.answer, mc.choices) == 1.0
    assert score(mc.metric, "a kite or a bat", mc.answer, mc.choices) == 0.0
    [da] = aokvqa(DataConfig(source="aokvqa", path=q, mode="da"))
    assert da.metric == "vqa" and score(da.metric, "bat", da.answer) == 1.0


def test_snli_ve(tmp_path):
    p = tmp_path / "ve.jsonl"
    p.write_text(
        json.dumps({"pairID": "p1", "Flickr30K_ID": "123", "sentence2": "A dog runs.", "gold_label": "contradiction"})
        + "\n"
    )
    [q] = snli_ve(DataConfig(source="snli-ve", path=str(p), image_root="/f30k"))
    assert q.images == ["/f30k/123.jpg"] and q.answer == "contradiction" and "A dog runs." in q.question
    p.write_text(json.dumps({"pairID": "p2", "Flickr30K_ID": "1", "sentence2": "x", "gold_label": "maybe"}) + "\n")
    with pytest.raises(UserInputError, match="gold_label 'maybe'"):
        snli_ve(DataConfig(source="snli-ve", path=str(p)))


def test_scienceqa_splits_and_breakdowns(tmp_path):
    problems = {
        "1": {
            "question": "Which animal is a mammal?",
            "choices": ["frog", "whale"],
            "answer": 1,
            "hint": "",
            "image": "image.png",
            "subject": "natural science",
            "grade": "grade4",
            "split": "test",
        },
        "2": {
            "question": "Which word is a noun?",
            "choices": ["run", "table", "blue"],
            "answer": 1,
            "hint": "Read the sentence.",
            "image": "image.png",
            "subject": "language science",
            "grade": "grade8",
            "split": "test",
        },
        "3": {
            "question": "Text only?",
            "choices": ["a", "b"],
            "answer": 0,
            "hint": "",
            "image": None,
            "subject": "social science",
            "grade": "grade2",
            "split": "test",
        },
        "4": {
            "question": "Val one",
            "choices": ["a", "b"],
            "answer": 0,
            "hint": "",
            "image": "image.png",
            "subject": "social science",
            "grade": "grade2",
            "split": "val",
        },
    }
    prob = _write(tmp_path / "problems.json", problems)
    splits = _write(tmp_path / "pid_splits.json", {"test": ["1", "2", "3"], "val": ["4"]})
    items = scienceqa(DataConfig(source="scienceqa", path=prob, splits_file=splits, image_root="/sqa"))
    assert [i.id for i in items] == ["1", "2"]  # image-only by default: the IMG subset
    whale, noun = items
    assert whale.images == ["/sqa/test/1/image.png"] and whale.answer == "whale" and whale.family == "NAT"
    assert whale.groups == {"subject": "NAT", "context": ["IMG"], "grade": "G1-6"}
    assert noun.groups == {"subject": "LAN", "context": ["TXT", "IMG"], "grade": "G7-12"}
    assert noun.question.startswith("Context: Read the sentence.\n")
    assert score(noun.metric, "The noun is table.", noun.answer, noun.choices) == 1.0
    assert score(noun.metric, "run", noun.answer, noun.choices) == 0.0
    every = scienceqa(DataConfig(source="scienceqa", path=prob, image_only=False))  # split from problems.json
    assert [(i.id, i.groups["context"], i.images) for i in every if i.id == "3"] == [("3", ["NO"], [])]
    problems["2"]["answer"] = 5
    with pytest.raises(UserInputError, match="problem 2: answer 5 is not an index"):
        scienceqa(DataConfig(source="scienceqa", path=_write(tmp_path / "p2.json", problems)))
    with pytest.raises(UserInputError, match="problem id 9 is not in"):
        scienceqa(DataConfig(source="scienceqa", path=prob, splits_file=_write(tmp_path / "s.json", {"test": ["9"]})))


def _vcr_fixture(tmp_path, objects, boxes, question, answers, label=1):
    (tmp_path / "movie").mkdir(exist_ok=True)
    (tmp_path / "movie" / "1.json").write_text(
        json.dumps({"boxes": boxes, "width": 300, "height": 200, "names": objects})
    )
    rec = {
        "annot_id": "val-0",
        "objects": objects,
        "img_fn": "movie/1.jpg",
        "metadata_fn": "movie/1.json",
        "question": question,
        "answer_choices": answers,
        "answer_label": label,
    }
    p = tmp_path / "val.jsonl"
    p.write_text(json.dumps(rec) + "\n")
    return vcr(DataConfig(source="vcr", path=str(p), image_root=str(tmp_path)))


def test_vcr_tags_become_positional_phrases(tmp_path):
    objects = ["person", "person", "car"]
    boxes = [[200, 0, 280, 190, 0.9], [10, 0, 90, 190, 0.9], [100, 100, 180, 160, 0.8]]  # [0] right, [1] left
    answers = [
        [[0], "is", "driving", "the", [2], "."],
        [[0], "is", "angry", "at", [1], "."],
        ["They", "are", "friends", "."],
        [[1], "'s", "car", "broke", "down", "."],
    ]
    [q] = _vcr_fixture(tmp_path, objects, boxes, ["Why", "is", [0], "yelling", "at", [1], "?"], answers)
    assert q.question == "Why is person on the right yelling at person on the left?"
    assert q.choices[1] == "person on the right is angry at person on the left."
    assert q.choices[0] == "person on the right is driving the car."
    assert q.choices[3] == "person on the left's car broke down."
    assert q.answer == q.choices[1] and q.images == [str(tmp_path / "movie/1.jpg")]
    # the model may name a sentence choice by its number
    assert score(q.metric, "Answer 2", q.answer, q.choices) == 1.0
    assert score(q.metric, "(3)", q.answer, q.choices) == 0.0
    # one person: the third of the image its box starts in; tags with two objects are joined
    [one] = _vcr_fixture(
        tmp_path,
        ["person", "dog"],
        [[110, 0, 150, 100], [0, 0, 5, 5]],
        ["Is", [0, 1], "happy", "?"],
        [["yes"], ["no"]],
        label=0,
    )
    assert one.question == "Is person in the middle and dog happy?"


def test_vcr_bad_tags_and_missing_metadata(tmp_path):
    with pytest.raises(UserInputError, match=r"object tags \[5\] point past"):
        _vcr_fixture(tmp_path, ["person"], [[0, 0, 1, 1]], ["Why", "is", [5], "here", "?"], [["x"]], label=0)
    (tmp_path / "val.jsonl").write_text(json.dumps({"metadata_fn": "nope.json"}) + "\n")
    with pytest.raises(UserInputError, match="metadata file not found"):
        vcr(DataConfig(source="vcr", path=str(tmp_path / "val.jsonl"), image_root=str(tmp_path)))


def test_refcoco_refs_pickle_and_iou(tmp_path):
    refs = [
        {
            "ref_id": 0,
            "ann_id": 11,
            "image_id": 5,
            "split": "val",
            "category_id": 1,
            "sentences": [{"sent": "man on the left", "sent_id": 100}, {"sent": "guy in red", "sent_id": 101}],
        },
        {
            "ref_id": 1,
            "ann_id": 12,
            "image_id": 5,
            "split": "testA",
            "category_id": 1,
            "sentences": [{"sent": "woman", "sent_id": 102}],
        },
    ]
    (tmp_path / "refs(unc).p").write_bytes(pickle.dumps(refs))
    inst = _write(
        tmp_path / "instances.json",
        {
            "images": [{"id": 5, "file_name": "COCO_train2014_000000000005.jpg", "width": 640, "height": 480}],
            "annotations": [
                {"id": 11, "image_id": 5, "bbox": [10, 20, 100, 200], "category_id": 1},
                {"id": 12, "image_id": 5, "bbox": [300, 20, 100, 200], "category_id": 1},
            ],
        },
    )
    items = refcoco(
        DataConfig(source="refcoco", path=str(tmp_path / "refs(unc).p"), annotations=inst, image_root="/coco/train2014")
    )
    assert [i.id for i in items] == ["100", "101"] and items[0].answer == [10, 20, 110, 220]
    assert items[0].images == ["/coco/train2014/COCO_train2014_000000000005.jpg"] and items[0].metric == "iou"
    assert '"man on the left"' in items[0].question
    # IoU of [10,20,110,220] with [20,20,120,220]: 90*200 / (2*100*200 - 90*200) = 0.818
    assert score("iou", "[20, 20, 120, 220]", items[0].answer) == 1.0
    assert score("iou", [60, 20, 160, 220], items[0].answer) == 0.0  # IoU 1/3
    assert score("iou", "the man", items[0].answer) == 0.0
    [test_a] = refcoco(
        DataConfig(source="refcoco", path=str(tmp_path / "refs(unc).p"), annotations=inst, split="testA")
    )
    assert test_a.answer == [300, 20, 400, 220]
    (tmp_path / "bad.p").write_text("not a pickle")
    with pytest.raises(UserInputError, match="not a RefCOCO refs pickle"):
        refcoco(DataConfig(source="refcoco", path=str(tmp_path / "bad.p"), annotations=inst))
