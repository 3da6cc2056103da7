"""Loading user images safely: every way a file can be unusable gets a clear message."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageFile, UnidentifiedImageError

from mmagent.core.errors import UserInputError

# Larger than any camera photo (a 200 MP image), small enough that a crafted PNG cannot
# expand into gigabytes: Pillow's own limit only warns below 2x its default.
MAX_PIXELS = 200_000_000
# Images are kept at most this many pixels a side: every model reads far less (OCR 1280,
# detector 640), and a 12000x12000 photo would otherwise be copied (432 MB each) by crops and
# tools. The original size is kept in `img.info["original_size"]`.
MAX_SIDE = 4096


def normalize_mode(img: Image.Image) -> Image.Image:
    """Convert 16-bit, CMYK, palette, alpha and grey images to 8-bit RGB (what models expect)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # Scale 16/32-bit integer data to 8 bits instead of clipping it to white.
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        img = Image.fromarray((arr / hi * 255.0).astype("uint8"), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return background
    return img.convert("RGB")


def fit_side(img: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """The image shrunk so its longer side is at most `max_side` (aspect kept), else itself."""
    w, h = img.size
    if max(w, h) <= max_side:
        return img
    factor = max(w, h) // max_side
    small = img.reduce(factor) if factor > 1 else img  # box filter by an integer factor: fast, low memory
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    small.info["original_size"] = (w, h)
    return small


Box = tuple[int, int, int, int]


def grid_tiles(size: tuple[int, int], tile_wh: tuple[int, int], overlap_wh: tuple[int, int]) -> list[Box]:
    """Tiles of `tile_wh` covering the image, overlapping by `overlap_wh`, the last row and
    column flush with the far edges; the same tiles supervision's InferenceSlicer cuts.

    >>> grid_tiles((3000, 1000), (1280, 1280), (256, 256))
    [(0, 0, 1280, 1000), (1024, 0, 2304, 1000), (1720, 0, 3000, 1000)]
    """

    def starts(length: int, tile: int, overlap: int) -> list[int]:
        if length <= tile:
            return [0]
        return list(range(0, length - tile, tile - overlap)) + [length - tile]

    (w, h), (tw, th), (ow, oh) = size, tile_wh, overlap_wh
    return [(x, y, min(x + tw, w), min(y + th, h)) for y in starts(h, th, oh) for x in starts(w, tw, ow)]


Pixels = Image.Image | Any  # a PIL image, or its pixels as an HxWx3 RGB uint8 numpy array


def rgb_pixels(image: Pixels) -> Any:
    """The image as an HxWx3 RGB array, without a copy when it already is one. Detection over
    tiles hands the detector array slices: converting each tile, and a 4000x3000 image for the
    whole-image pass, to PIL and back cost more than reading it (57 ms for that image)."""
    import numpy as np

    if not isinstance(image, Image.Image):
        return image
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def grey_4x(pixels: Pixels) -> Any:
    """The image's grey levels box-filtered 4x (uint8 array), so a page's texture and noise
    average out while text, objects and shapes keep their contrast."""
    import cv2

    rgb = rgb_pixels(pixels)
    h, w = rgb.shape[:2]
    # cv2 reads an array slice in place (a tile of a large image): ~0.15 ms a 640 px tile, a
    # third of going through PIL, which copies it first
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)


def blank(pixels: Pixels, min_range: int = 48) -> bool:
    """No ink and no object in a tile (a PIL image or an RGB array): its grey levels, box-filtered
    4x so texture and noise average out, span less than `min_range`. Text, even light grey on
    white, and any object on a page or against the sky span more.

    >>> blank(Image.new("RGB", (64, 64), (250, 250, 250)))
    True
    """
    grey = grey_4x(pixels)
    return int(grey.max()) - int(grey.min()) < min_range


@dataclass(frozen=True)
class Tiling:
    """Where a model that reads at most `limit` px a side looks at full resolution instead of
    reading the image whole (`tiling` decides); `tiles` are in image pixels."""

    kind: Literal["strip", "grid"]
    tile_wh: tuple[int, int]
    overlap_wh: tuple[int, int]
    tiles: list[Box]


def tile_params(tiles: Tiling | None) -> dict[str, Any]:
    """Provenance of a tiled reading (which tiles, in image pixels); nothing for a whole one."""
    if tiles is None:
        return {}
    return {"tiles": {"kind": tiles.kind, "n": len(tiles.tiles), "boxes": [list(b) for b in tiles.tiles]}}


def tiling(size: tuple[int, int], limit: int, large_factor: float, sliced: bool | None = None) -> Tiling | None:
    """A long strip the model would shrink until its short side is under 64 px (a 4000x51 strip
    read at 1280 px is 16 px tall: its text is gone) is read in `limit`-long tiles along it; a
    large image (its long side over `large_factor` x `limit`, or any image larger than `limit`
    when `sliced` is True) in a grid of `limit`-sized tiles overlapping by a fifth. None: read
    whole, where small text and objects survive the model's own downscaling (`large_factor` 0:
    never by size; `sliced` False: never).

    >>> tiling((4000, 51), 1280, 2.0).tiles
    [(0, 0, 1280, 51), (1024, 0, 2304, 51), (2048, 0, 3328, 51), (2720, 0, 4000, 51)]
    >>> len(tiling((4000, 3000), 1280, 2.0).tiles), tiling((960, 640), 640, 2.0)
    (12, None)
    """
    w, h = size
    long_side, short_side = max(w, h), min(w, h)
    if long_side <= limit or sliced is False:
        return None
    if short_side * limit / long_side < 64:
        tile_wh, overlap_wh = ((limit, h), (256, 0)) if w >= h else ((w, limit), (0, 256))
        return Tiling("strip", tile_wh, overlap_wh, grid_tiles(size, tile_wh, overlap_wh))
    if sliced or (large_factor > 0 and long_side > large_factor * limit):
        tile_wh, overlap_wh = (limit, limit), (limit // 5, limit // 5)
        return Tiling("grid", tile_wh, overlap_wh, grid_tiles(size, tile_wh, overlap_wh))
    return None


def _pil_open(path: Path) -> Image.Image:
    """Pillow's own Image.open. ultralytics replaces Image.open process-wide with a wrapper that,
    on an unreadable file, tries to install and import pi-heif (ModuleNotFoundError offline)
    instead of raising UnidentifiedImageError."""
    opener = Image.open
    patched = sys.modules.get("ultralytics.utils.patches")
    if patched is not None and getattr(opener, "__module__", "") == patched.__name__:
        opener = getattr(patched, "_image_open", opener)
    return opener(path)


@dataclass(frozen=True)
class LoadedImage:
    """An image file checked and decoded once at the edge (CLI, UI, API); the agent takes it
    as it is instead of opening the file again."""

    image: Image.Image
    source: str


def load_images(
    paths: Sequence[str | Path], max_images: int | None = None, max_mb: float | None = None
) -> list[LoadedImage]:
    """The one input check for image files: how many, how large, readable; each decoded once.

    images = load_images(["receipt.png"])   # UserInputError naming the file and the fix
    Agent().run("What is the total?", images)
    """
    if max_images is not None and len(paths) > max_images:
        raise UserInputError(f"at most {max_images} images per message; you sent {len(paths)}")
    out = []
    for path in paths:
        p = Path(path)
        size_mb = p.stat().st_size / 1e6 if p.is_file() else 0.0
        if max_mb is not None and size_mb > max_mb:
            raise UserInputError(f"{p.name} is {size_mb:.1f} MB; the limit is {max_mb:g} MB per image")
        out.append(LoadedImage(load_image(p), str(p)))
    return out


def load_image(path: str | Path) -> Image.Image:
    """Open an image file fully into memory as RGB, or raise UserInputError saying why not."""
    return _read(Path(path), decode=True)


def probe_image(path: str | Path) -> tuple[int, int]:
    """The size of an image file, after every check `load_image` makes short of decoding its
    pixels (Pillow's verify): a clear error on a bad file before any model loads, without
    decoding a large image twice (the CLI checks, then the agent loads)."""
    return _read(Path(path), decode=False)


def _read(p: Path, decode: bool) -> Any:
    if not p.exists():
        raise UserInputError(f"image not found: {p} (check the path)")
    if p.is_dir():
        raise UserInputError(f"{p} is a directory; pass an image file such as a .jpg or .png")
    if p.stat().st_size == 0:
        raise UserInputError(f"{p} is an empty file (0 bytes); pass a real image")
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # Our own limit (checked before decoding) replaces Pillow's warning, which fires at 89 MP.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _pil_open(p) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise UserInputError(
                        f"{p} is {w}x{h} pixels, more than the {MAX_PIXELS:,}-pixel limit; downscale it first"
                    )
                if not decode:
                    img.verify()
                    return w, h
                img.load()
                return fit_side(normalize_mode(img))
    except UserInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserInputError(f"{p} declares a huge size (possible decompression bomb); refusing to open it") from None
    except UnidentifiedImageError:
        raise UserInputError(f"{p} is not an image Pillow can read (try PNG, JPEG, WebP, BMP, TIFF or GIF)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserInputError(f"{p} is damaged or truncated and cannot be decoded ({exc})") from None
