"""Which regions a cited artifact points at on the input image: a computed value's own rows and
lines; an artifact cited itself: its one OCR line or table row, or a detection's few boxes; a
whole OCR page points at nothing in particular."""

from mmagent.evidence import evidence_regions
from tests.conftest import ToolEnv


def test_cited_artifacts_point_at_their_one_region_or_few_boxes(settings, chelsea, receipt):
    env = ToolEnv(settings)
    cat = env.add_image(chelsea)
    det = env.runner.call("detect", {"image": cat, "classes": ["cat"]}, step="a").made
    table = env.runner.call("attributes", {"image": cat, "detections": det, "index": 0}, step="b").made
    (by_det,) = evidence_regions(env.store, [det])
    (by_row,) = evidence_regions(env.store, [table])
    assert by_det.input_image == cat and by_det.input_box == env.store.get(det).boxes[0]
    assert by_row.input_image == cat and by_row.input_box == by_det.input_box  # the row describes that box
    page = env.runner.call("ocr", {"image": env.add_image(receipt.image)}, step="c").made
    assert len(env.store.get(page).lines) > 1 and evidence_regions(env.store, [page]) == []
