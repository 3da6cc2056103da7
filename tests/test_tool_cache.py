"""The on-disk tool-call cache: a second run (new store, new ids) reuses the detector/OCR
output for the same image content, model config and arguments; other calls are not cached."""

from PIL import Image

from mmagent.core.artifacts import DetectionsArtifact, OcrArtifact
from mmagent.core.cache import ToolCache


def test_rerun_reuses_perception_results(tool_env, tmp_path, chelsea, receipt):
    cache = ToolCache(tmp_path / "cache")
    first = tool_env()
    first.runner.cache = cache
    a = first.call("detect", image=first.add_image(chelsea), classes=["cat"])
    o = first.call("ocr", image=first.add_image(receipt.image))
    assert cache.hits == 0 and cache.misses == 2

    second = tool_env()
    second.runner.cache = cache
    second.add_image(Image.new("RGB", (4, 4)))  # shifts ids: img-2 here is the cat photo
    img = second.add_image(chelsea.copy())
    b = second.call("detect", image=img, classes=["cat"])
    assert cache.hits == 1
    det = second.store.get(b.primary, DetectionsArtifact)
    assert det.image_id == img and det.provenance.params["cached"] is True
    assert det.class_names == first.store.get(a.primary).class_names
    o2 = second.call("ocr", image=second.add_image(receipt.image))
    assert cache.hits == 2
    assert [line.text for line in second.store.get(o2.primary, OcrArtifact).lines] == [
        line.text for line in first.store.get(o.primary, OcrArtifact).lines
    ]
    second.call("detect", image=img, classes=["dog"])  # other args: a miss
    assert cache.hits == 2 and cache.misses == 3
    crop = second.call("crop", image=img, box=[0, 0, 10, 10])
    assert crop.ok and cache.misses == 3  # crop is not a cached tool


def test_the_models_directory_is_part_of_the_key(settings, tool_env, tmp_path, chelsea):
    """Without a models directory the detector falls back to other weights: a result cached
    with one must not be served to the other (it was: SSD counts answered YOLO runs)."""
    cache = ToolCache(tmp_path / "cache")
    env = tool_env()
    env.runner.cache = cache
    env.call("detect", image=env.add_image(chelsea))
    settings.model_dir = tmp_path / "elsewhere"  # the envs share these settings; the first call is done
    other = tool_env()
    other.runner.cache = cache
    other.call("detect", image=other.add_image(chelsea))
    assert cache.hits == 0 and cache.misses == 2


def test_settings_that_change_the_output_are_part_of_the_key(settings, tool_env, tmp_path, chelsea):
    """Slicing on or off reads a large image differently: a result cached with one is not
    served to the other (it was: a run without slicing answered from the sliced run's cache)."""
    cache = ToolCache(tmp_path / "cache")
    env = tool_env()
    env.runner.cache = cache
    env.call("detect", image=env.add_image(chelsea))
    settings.slice_factor = 0  # the envs share these settings; the first call is done
    other = tool_env()
    other.runner.cache = cache
    other.call("detect", image=other.add_image(chelsea))
    assert cache.hits == 0 and cache.misses == 2


def test_a_cached_text_reads_as_it_was_made(tool_env, tmp_path, chelsea):
    """A caption (a text artifact, tied to no image id) comes back from the cache word for word:
    it once came back with the image id between every letter."""
    cache = ToolCache(tmp_path / "cache")
    first = tool_env()
    first.runner.cache = cache
    made = first.call("caption", image=first.add_image(chelsea))
    second = tool_env()
    second.runner.cache = cache
    again = second.call("caption", image=second.add_image(chelsea.copy()))
    assert cache.hits == 1
    assert second.store.get(again.primary).text == first.store.get(made.primary).text
    assert again.observation == made.observation
