"""Example inputs the repository makes itself: rendered receipts and packaged sample photos.

Every rendered image comes with its ground truth, so demos and tests can check answers.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ITEM_NAMES = ["Coffee Beans", "Green Tea", "Bagel", "Orange Juice", "Pasta", "Olive Oil", "Cheddar",
              "Apples", "Rice", "Chocolate", "Butter", "Honey", "Granola", "Salmon", "Lemons"]
STORES = ["CORNER MARKET", "FRESH FOODS", "CITY GROCER", "GREEN BASKET"]


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib (installed with ultralytics), else Pillow's bundled font."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Receipt:
    image: Image.Image
    store: str
    items: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        return round(sum(p for _, p in self.items), 2)

    @property
    def most_expensive(self) -> tuple[str, float]:
        return max(self.items, key=lambda it: it[1])


def render_receipt(seed: int = 0, n_items: int = 5) -> Receipt:
    rng = random.Random(seed)
    names = rng.sample(ITEM_NAMES, n_items)
    # Distinct prices so "most expensive" has one answer.
    cents = rng.sample(range(150, 2500, 5), n_items)
    items = tuple((n, c / 100) for n, c in zip(names, cents))
    store = rng.choice(STORES)
    width, line_h = 520, 46
    height = 170 + line_h * (n_items + 2)
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    big, body = font(34), font(28)
    d.text((width // 2, 40), store, font=big, fill="black", anchor="mm")
    d.text((width // 2, 85), f"Receipt #{rng.randint(1000, 9999)}", font=body, fill="black", anchor="mm")
    y = 130
    for name, price in items:
        d.text((30, y), name, font=body, fill="black")
        d.text((width - 30, y), f"${price:.2f}", font=body, fill="black", anchor="ra")
        y += line_h
    d.line((30, y + 8, width - 30, y + 8), fill="black", width=2)
    y += 24
    total = round(sum(p for _, p in items), 2)
    d.text((30, y), "TOTAL", font=big, fill="black")
    d.text((width - 30, y), f"${total:.2f}", font=big, fill="black", anchor="ra")
    return Receipt(img, store, items)


def packaged_photo(name: str) -> Path:
    """Path of a sample photo shipped inside an installed package (no download)."""
    from agent.resolve import package_path

    if name not in ("bus.jpg", "zidane.jpg"):
        raise KeyError(f"unknown sample photo {name}")
    base = package_path("ultralytics")  # found without importing ultralytics
    path = (base or Path("ultralytics-not-installed")) / "assets" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed ultralytics package")
    return path


def skimage_photo(name: str) -> Image.Image:
    """scikit-image sample photos (astronaut, chelsea, coffee, rocket, ...), as RGB."""
    import skimage.data

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
