"""The adversarial corpus (tests/adversarial/corpus.py) through the CLI on the real offline
stack, one process per case: the right answer, no forbidden word in it, no forbidden tool
called, no file outside the run written and no planted secret read, and for odd input an
answer or exit 2 with one line, never a traceback. One test for the corpus; on failure it
prints the table of every case."""

import pytest

from tests.adversarial.corpus import make_corpus
from tests.adversarial.run import run_case, table


@pytest.mark.slow
@pytest.mark.llm
def test_the_whole_corpus_through_the_cli(tmp_path):
    cases = make_corpus(tmp_path / "corpus")
    assert sum(c.kind == "injection" for c in cases) >= 12
    outcomes = [run_case(c, tmp_path) for c in cases]
    assert not any(o.problems for o in outcomes), "\n" + table(cases, outcomes)
