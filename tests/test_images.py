"""Every way an input image can be unusable gets a clear UserInputError; odd modes convert."""

import numpy as np
import pytest
from PIL import Image

from mmagent.core.errors import UserInputError
from mmagent.core.images import MAX_PIXELS, load_image


def test_missing_dir_empty_not_image(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(UserInputError, match="directory"):
        load_image(tmp_path)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UserInputError, match="empty file"):
        load_image(empty)
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(UserInputError, match="not an image"):
        load_image(text)


def test_truncated_image(tmp_path):
    src = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(src)
    cut = tmp_path / "cut.png"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(UserInputError, match="damaged or truncated"):
        load_image(cut)


def test_decompression_bomb(tmp_path):
    # A 1-bit PNG declaring ~400 MP: tiny on disk, huge in memory.
    side = int((MAX_PIXELS * 2) ** 0.5)
    bomb = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(bomb)
    assert bomb.stat().st_size < 5_000_000
    with pytest.raises(UserInputError, match="pixel limit|decompression bomb"):
        load_image(bomb)


@pytest.mark.parametrize("mode", ["I;16", "CMYK", "P", "RGBA", "LA", "L", "1"])
def test_modes_convert_to_rgb(tmp_path, mode):
    base = Image.new("RGB", (40, 30), (200, 30, 30))
    if mode == "I;16":
        img = Image.fromarray((np.linspace(0, 65535, 1200).reshape(30, 40)).astype(np.uint16))
        path = tmp_path / "x.png"
    else:
        img = base.convert(mode)
        path = tmp_path / ("x.tiff" if mode == "CMYK" else "x.png")
    img.save(path)
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (40, 30)
    if mode == "I;16":  # scaled, not clipped to white
        arr = np.asarray(out)
        assert arr.min() == 0 and arr.max() == 255


def test_alpha_composited_on_white(tmp_path):
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    path = tmp_path / "clear.png"
    img.save(path)
    assert load_image(path).getpixel((5, 5)) == (255, 255, 255)


def test_not_an_image_after_ultralytics_patched_pillow(tmp_path):
    import ultralytics.utils.patches  # noqa: F401  (replaces PIL.Image.open process-wide)

    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(UserInputError, match="not an image"):
        load_image(text)
