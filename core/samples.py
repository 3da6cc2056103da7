"""Example inputs the repository makes itself: rendered receipts and packaged sample photos.

Every rendered image comes with its ground truth, so demos and tests can check answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ITEM_NAMES = [
    "Coffee Beans",
    "Green Tea",
    "Bagel",
    "Orange Juice",
    "Pasta",
    "Olive Oil",
    "Cheddar",
    "Apples",
    "Rice",
    "Chocolate",
    "Butter",
    "Honey",
    "Granola",
    "Salmon",
    "Lemons",
]
STORES = ["CORNER MARKET", "FRESH FOODS", "CITY GROCER", "GREEN BASKET"]


# Fonts that ship with matplotlib (installed with ultralytics): sans, bold, serif, mono, STIX.
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "STIXGeneral.ttf",
    "DejaVuSerif-Bold.ttf",
)


@lru_cache(maxsize=64)
def font(size: int, name: str = "DejaVuSans.ttf") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A matplotlib-shipped TrueType font (DejaVu Sans by default), else Pillow's bundled font."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Style:
    """How a synthetic image is rendered, so a benchmark is not one renderer's copy: font
    family and scale, page and ink colours, and after drawing a slight rotation, blur and
    JPEG compression. `Style()` is the plain default (DejaVu Sans, white, no noise)."""

    typeface: str = "DejaVuSans.ttf"
    scale: float = 1.0
    page: tuple[int, int, int] = (255, 255, 255)
    ink: tuple[int, int, int] = (0, 0, 0)
    rotation: float = 0.0  # degrees
    blur: float = 0.0  # Gaussian radius in px
    jpeg: int | None = None  # JPEG quality, None for lossless

    def font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return font(max(8, round(size * self.scale)), self.typeface)

    def finish(self, img: Image.Image) -> Image.Image:
        """Apply rotation, blur and JPEG noise to a finished drawing."""
        from io import BytesIO

        from PIL import ImageFilter

        if self.rotation:
            img = img.rotate(self.rotation, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=self.page)
        if self.blur:
            img = img.filter(ImageFilter.GaussianBlur(self.blur))
        if self.jpeg:
            buf = BytesIO()
            img.save(buf, "JPEG", quality=self.jpeg)
            img = Image.open(BytesIO(buf.getvalue())).convert("RGB")
        return img


def random_style(rng: random.Random) -> Style:
    """A varied but readable style: any shipped font, 0.85-1.15 scale, a light page, dark ink,
    up to 2 degrees of rotation, mild blur and JPEG noise on some images."""
    page = rng.choice([(255, 255, 255), (250, 248, 240), (240, 242, 245), (252, 250, 228), (236, 244, 236)])
    ink = rng.choice([(0, 0, 0), (30, 30, 40), (20, 30, 80), (60, 40, 30)])
    return Style(
        typeface=rng.choice(FONT_FILES),
        scale=rng.uniform(0.85, 1.15),
        page=page,
        ink=ink,
        rotation=rng.choice([0.0, 0.0, rng.uniform(-2.0, 2.0)]),
        blur=rng.choice([0.0, 0.0, rng.uniform(0.3, 0.9)]),
        jpeg=rng.choice([None, None, rng.randint(45, 85)]),
    )


@dataclass(frozen=True)
class Receipt:
    image: Image.Image
    store: str
    items: tuple[tuple[str, float], ...]
    tax: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(p for _, p in self.items) + self.tax, 2)

    @property
    def most_expensive(self) -> tuple[str, float]:
        return max(self.items, key=lambda it: it[1])


def render_receipt(seed: int = 0, n_items: int = 5, style: Style | None = None, extras: bool = False) -> Receipt:
    """A receipt with distinct item prices and its TOTAL. `extras` adds what real receipts
    print besides items (an address and date under the store name, SUBTOTAL and TAX lines
    before the TOTAL, a footer); the total then includes the tax (`Receipt.tax`)."""
    rng = random.Random(seed)
    names = rng.sample(ITEM_NAMES, n_items)
    # Distinct prices so "most expensive" has one answer.
    cents = rng.sample(range(150, 2500, 5), n_items)
    items = tuple((n, c / 100) for n, c in zip(names, cents))
    store = rng.choice(STORES)
    st = style or Style()
    width, line_h = round(520 * st.scale), round(46 * st.scale)
    tax = round(sum(p for _, p in items) * rng.choice([0.05, 0.07, 0.08]), 2) if extras else 0.0
    head = [f"Receipt #{rng.randint(1000, 9999)}"]
    if extras:
        head = [
            f"{rng.randint(10, 999)} {rng.choice(['Main St', 'Oak Ave', 'Park Rd'])}",
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2024 {rng.randint(8, 20)}:{rng.randint(0, 59):02d}",
        ]
    tail = [("SUBTOTAL", round(sum(p for _, p in items), 2)), ("TAX", tax)] if extras else []
    height = round(170 * st.scale) + line_h * (n_items + 2 + len(head) - 1 + len(tail) + extras)
    img = Image.new("RGB", (width, height), st.page)
    d = ImageDraw.Draw(img)
    big, body = st.font(34), st.font(28)
    pad = round(30 * st.scale)
    d.text((width // 2, round(40 * st.scale)), store, font=big, fill=st.ink, anchor="mm")
    y = round(85 * st.scale)
    for line in head:
        d.text((width // 2, y), line, font=body, fill=st.ink, anchor="mm")
        y += line_h
    y += round(45 * st.scale) - line_h
    for name, price in items:
        d.text((pad, y), name, font=body, fill=st.ink)
        d.text((width - pad, y), f"${price:.2f}", font=body, fill=st.ink, anchor="ra")
        y += line_h
    d.line((pad, y + 8, width - pad, y + 8), fill=st.ink, width=2)
    y += 24
    for label, value in tail:
        d.text((pad, y), label, font=body, fill=st.ink)
        d.text((width - pad, y), f"${value:.2f}", font=body, fill=st.ink, anchor="ra")
        y += line_h
    total = round(sum(p for _, p in items) + tax, 2)
    d.text((pad, y), "TOTAL", font=big, fill=st.ink)
    d.text((width - pad, y), f"${total:.2f}", font=big, fill=st.ink, anchor="ra")
    if extras:
        d.text((width // 2, y + line_h + 10), "THANK YOU", font=body, fill=st.ink, anchor="mt")
    return Receipt(st.finish(img), store, items, tax)


def packaged_photo(name: str) -> Path:
    """Path of a sample photo shipped inside an installed package (no download)."""
    from mmagent.core.resolve import package_path

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


# -- grounding scenes: sample photos pasted at known places ------------------------------------
# Object boxes in the source photos, read off the photos by eye (x1, y1, x2, y2).
OBJECT_SOURCES = {
    "cat": ("chelsea", (3, 1, 400, 293)),
    "cup": ("coffee", (170, 18, 425, 300)),
    "person": ("astronaut", (13, 18, 362, 508)),
}
LABEL_WORDS = ["ALPHA", "BRAVO", "DELTA", "ECHO", "KILO", "OSCAR"]


@dataclass(frozen=True)
class GroundingScene:
    image: Image.Image
    phrase: str
    box: tuple[float, float, float, float]  # ground truth for the phrase
    kind: str  # position | size | colour | text | distractor


def _tint(img: Image.Image, colour: str) -> Image.Image:
    """Half-blend with a colour: strongly coloured, but with the texture a detector needs."""
    layer = Image.new("RGB", img.size, {"red": (230, 20, 20), "blue": (20, 60, 230)}[colour])
    return Image.blend(img, layer, 0.5)


def grounding_scene(seed: int) -> GroundingScene:
    """Two objects side by side on a plain canvas; the phrase singles one out."""
    rng = random.Random(seed)
    kind = ["position", "size", "colour", "text", "distractor"][seed % 5]
    cls = rng.choice(list(OBJECT_SOURCES))
    other = rng.choice([c for c in OBJECT_SOURCES if c != cls]) if kind == "distractor" else cls
    W, H = 960, 640
    canvas = Image.new("RGB", (W, H), (235, 235, 230))
    heights = [rng.randint(200, 260), rng.randint(200, 260)]
    if kind == "size":
        heights = [rng.randint(140, 170), rng.randint(300, 340)]
        rng.shuffle(heights)
    colours = ["red", "blue"]
    rng.shuffle(colours)
    words = rng.sample(LABEL_WORDS, 2)
    boxes = []
    for slot, (name, h) in enumerate(zip((cls, other) if rng.random() < 0.5 else (other, cls), heights)):
        photo_name, (bx1, by1, bx2, by2) = OBJECT_SOURCES[name]
        photo = skimage_photo(photo_name)
        f = h / photo.height
        photo = photo.resize((round(photo.width * f), h))
        if kind == "colour":
            photo = _tint(photo, colours[slot])
        x = (40 if slot == 0 else W // 2 + 20) + rng.randint(0, 40)
        y = rng.randint(30, H - h - 70)
        canvas.paste(photo, (x, y))
        if kind == "text":
            ImageDraw.Draw(canvas).text((x + 10, y + h + 12), words[slot], font=font(34), fill="black")
        boxes.append((name, (x + bx1 * f, y + by1 * f, x + bx2 * f, y + by2 * f)))
    target = 0
    if kind == "position":
        side = rng.choice(["left", "right"])
        target, phrase = (0 if side == "left" else 1), f"the {cls} on the {side}"
    elif kind == "size":
        big = rng.choice([True, False])
        areas = [(b[2] - b[0]) * (b[3] - b[1]) for _, b in boxes]
        target = areas.index(max(areas) if big else min(areas))
        phrase = f"the {'largest' if big else 'smallest'} {cls}"
    elif kind == "colour":
        target = rng.choice([0, 1])
        phrase = f"the {colours[target]} {cls}"
    elif kind == "text":
        target = rng.choice([0, 1])
        phrase = f"the {cls} labelled '{words[target]}'"
    else:
        target = [n for n, _ in boxes].index(cls)
        phrase = f"the {cls}"
    return GroundingScene(canvas, phrase, boxes[target][1], kind)


# Real photos with boxes read off by eye (bus.jpg ships with ultralytics).
REAL_GROUNDING = [
    ("bus.jpg", "the bus", (20, 235, 805, 745)),
    ("bus.jpg", "the largest person", (50, 395, 235, 900)),
    ("bus.jpg", "the person on the right", (672, 400, 810, 872)),
    ("bus.jpg", "the person on the left", (0, 600, 65, 868)),
]
