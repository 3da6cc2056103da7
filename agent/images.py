"""Loading user images safely: every way a file can be unusable gets a clear message."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from agent.errors import UserInputError

# Larger than any camera photo (a 200 MP image), small enough that a crafted PNG cannot
# expand into gigabytes: Pillow's own limit only warns below 2x its default.
MAX_PIXELS = 200_000_000


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


def _pil_open(path: Path) -> Image.Image:
    """Pillow's own Image.open. ultralytics replaces Image.open process-wide with a wrapper that,
    on an unreadable file, tries to install and import pi-heif (ModuleNotFoundError offline)
    instead of raising UnidentifiedImageError."""
    opener = Image.open
    patched = sys.modules.get("ultralytics.utils.patches")
    if patched is not None and getattr(opener, "__module__", "") == patched.__name__:
        opener = getattr(patched, "_image_open", opener)
    return opener(path)


def load_image(path: str | Path) -> Image.Image:
    """Open an image file fully into memory as RGB, or raise UserInputError saying why not."""
    p = Path(path)
    if not p.exists():
        raise UserInputError(f"image not found: {p} (check the path)")
    if p.is_dir():
        raise UserInputError(f"{p} is a directory; pass an image file such as a .jpg or .png")
    if p.stat().st_size == 0:
        raise UserInputError(f"{p} is an empty file (0 bytes); pass a real image")
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _pil_open(p) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise UserInputError(
                        f"{p} is {w}x{h} pixels, more than the {MAX_PIXELS:,}-pixel limit; "
                        "downscale it first"
                    )
                img.load()
                return normalize_mode(img)
    except UserInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserInputError(
            f"{p} declares a huge size (possible decompression bomb); refusing to open it"
        ) from None
    except UnidentifiedImageError:
        raise UserInputError(
            f"{p} is not an image Pillow can read (try PNG, JPEG, WebP, BMP, TIFF or GIF)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserInputError(f"{p} is damaged or truncated and cannot be decoded ({exc})") from None
