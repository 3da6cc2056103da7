"""Metrics checked against hand-computed cases from the official definitions."""

import pytest

from mmagent.evals.metrics import anls, contains_answer, numeric_match, score, vqa_accuracy, vqa_normalize
from mmagent.tools.structure.geometry import iou


def test_vqa_normalisation():
    assert vqa_normalize("Two dogs!") == "2 dogs"
    assert vqa_normalize("the Cat.") == "cat"
    assert vqa_normalize("dont know") == "don't know"
    assert vqa_normalize("1,000") == "1000"


def test_vqa_accuracy_averages_leave_one_out():
    golds = ["2"] * 3 + ["3"] * 7
    # subsets dropping a "2" (3 of them): 2 matches -> 2/3; dropping a "3" (7): 3 matches -> 1
    assert vqa_accuracy("two", golds) == pytest.approx((3 * (2 / 3) + 7 * 1.0) / 10)
    assert vqa_accuracy("4", golds) == 0.0
    assert vqa_accuracy("3", golds) == 1.0
    golds = ["yes"] * 1 + ["no"] * 9
    assert vqa_accuracy("yes", golds) == pytest.approx((9 * (1 / 3) + 1 * 0) / 10)


def test_anls():
    assert anls("hello", ["hello"]) == 1.0
    assert anls("helo", ["hello"]) == pytest.approx(1 - 1 / 5)
    assert anls("abcdef", ["uvwxyz"]) == 0.0  # distance 1.0 >= 0.5 threshold
    assert anls("Hello  World", ["hello world", "x"]) == 1.0


def test_numeric_exact_choice_iou():
    assert numeric_match("The total is $69.95.", 69.95) == 1.0
    assert numeric_match("The total is $69.90.", 69.95) == 0.0
    assert contains_answer("The most expensive item is Coffee Beans.", "coffee beans") == 1.0
    assert contains_answer("It is a catalog", "cat") == 0.0
    assert score("choice", "The first receipt.", "first", ["first", "second"]) == 1.0
    assert score("choice", "first or second", "first", ["first", "second"]) == 0.0
    assert score("exact", "", "x") == 0.0
    assert iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)


def test_naming_every_candidate_is_not_an_answer():
    assert score("exact", "The sign says HOTEL.", "HOTEL", distractors=["OPEN", "EXIT"]) == 1.0
    assert score("exact", "HOTEL | OPEN | EXIT", "HOTEL", distractors=["OPEN", "EXIT"]) == 0.0


def test_choice_by_number_only_when_choices_are_not_numbers():
    sentences = ["He is angry.", "He is tired.", "He is hungry."]
    assert score("choice", "Answer 3", "He is hungry.", sentences) == 1.0
    assert score("choice", "2", "He is hungry.", sentences) == 0.0
    # numeric choices are matched by their text, never read as an index
    assert score("choice", "2", "3", ["1", "2", "3"]) == 0.0
    assert score("choice", "3", "3", ["1", "2", "3"]) == 1.0
    # a choice inside the gold's own text is not a second answer
    assert score("choice", "a black cat", "black cat", ["cat", "black cat"]) == 1.0
    assert score("choice", "a black cat", "cat", ["cat", "black cat"]) == 0.0


def test_quoted_and_bar_separated_candidates_count_as_named():
    # the plan planner's answer listed all three signs inside quotes: that names the distractors too
    pred = "The sign at the middle says 'OPEN | PARKING | TICKETS'."
    assert score("exact", pred, "PARKING", distractors=["OPEN", "TICKETS"]) == 0.0
    assert score("exact", "The sign says 'PARKING'.", "PARKING", distractors=["OPEN", "TICKETS"]) == 1.0
    assert score("exact", "It doesn't say OPEN.", "doesn't") == 1.0  # an apostrophe inside a word stays
