"""Colour names from pixels: nearest named colour in CIELAB (CIEDE2000), per pixel, so a
region's dominant colours are the names most of its pixels carry. The background is left
out by the caller's mask (a rendered shape's blob, or GrabCut's foreground for a box on a
photo: see `foreground_in_box`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Several sRGB references per name (light / dark shades), so "dark blue" is still blue.
PALETTE: dict[str, list[tuple[int, int, int]]] = {
    "red": [(220, 30, 35), (170, 20, 25), (235, 80, 70)],
    "orange": [(245, 140, 30), (230, 110, 20), (250, 170, 80)],
    "yellow": [(245, 215, 40), (235, 200, 30), (250, 240, 120)],
    "green": [(50, 165, 70), (30, 110, 40), (120, 200, 100), (110, 140, 50)],
    "blue": [(40, 90, 215), (25, 50, 140), (90, 150, 230), (30, 140, 200)],
    "purple": [(130, 60, 170), (90, 40, 120), (170, 110, 210)],
    "pink": [(240, 140, 190), (230, 80, 150), (250, 190, 210)],
    "brown": [(125, 80, 45), (90, 60, 35), (165, 115, 70), (150, 120, 90)],
    "black": [(20, 20, 20), (45, 45, 50)],
    "white": [(248, 248, 248), (225, 225, 220)],
    "gray": [(128, 128, 128), (90, 90, 90), (175, 175, 175)],
}
COLOUR_NAMES = tuple(PALETTE)
_SYNONYMS = {
    "grey": "gray",
    "violet": "purple",
    "magenta": "pink",
    "gold": "yellow",
    "golden": "yellow",
    "navy": "blue",
    "cyan": "blue",
    "teal": "blue",
    "tan": "brown",
    "beige": "brown",
    "silver": "gray",
}


def colour_word(word: str) -> str | None:
    """A question's colour word as a palette name ("grey" -> "gray"), else None."""
    w = word.lower()
    return w if w in PALETTE else _SYNONYMS.get(w)


@lru_cache(maxsize=1)
def _references() -> tuple[np.ndarray, list[str]]:
    from skimage.color import rgb2lab

    names, rgbs = [], []
    for name, shades in PALETTE.items():
        for rgb in shades:
            names.append(name)
            rgbs.append(rgb)
    lab = rgb2lab(np.asarray(rgbs, dtype=np.float64).reshape(1, -1, 3) / 255.0).reshape(-1, 3)
    return lab, names


def name_pixels(rgb: np.ndarray) -> list[str]:
    """The palette name of each RGB pixel (N x 3, uint8)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    if len(rgb) == 0:
        return []
    lab = rgb2lab(rgb.reshape(1, -1, 3).astype(np.float64) / 255.0).reshape(-1, 3)
    refs, names = _references()
    dist = np.stack([deltaE_ciede2000(lab, np.broadcast_to(r, lab.shape)) for r in refs], axis=1)
    return [names[i] for i in dist.argmin(axis=1)]


def dominant_colours(
    rgb: np.ndarray, max_pixels: int = 4000, min_share: float = 0.15, seed: int = 0
) -> list[tuple[str, float]]:
    """(name, share of pixels) for the colours that cover at least `min_share` of the pixels,
    most common first. `rgb`: N x 3 pixels of the region (background already excluded)."""
    if len(rgb) == 0:
        return []
    if len(rgb) > max_pixels:
        rgb = rgb[np.random.default_rng(seed).choice(len(rgb), max_pixels, replace=False)]
    names = name_pixels(rgb)
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    shares = sorted(((n, c / len(names)) for n, c in counts.items()), key=lambda nc: -nc[1])
    return [(n, round(s, 3)) for n, s in shares if s >= min_share] or shares[:1]


def border_colour(arr: np.ndarray) -> np.ndarray:
    """The background colour of an image: the median of its outer 2 % border of pixels."""
    h, w = arr.shape[:2]
    k = max(1, int(0.02 * min(h, w)))
    border = np.concatenate(
        [arr[:k].reshape(-1, 3), arr[-k:].reshape(-1, 3), arr[:, :k].reshape(-1, 3), arr[:, -k:].reshape(-1, 3)]
    )
    return np.median(border, axis=0)


def foreground_in_box(arr: np.ndarray, box: tuple[float, float, float, float], iterations: int = 3) -> np.ndarray:
    """Boolean mask (of the box's crop) of the object in a box on a photo: GrabCut initialised
    with the box (OpenCV). A box that touches the image on every side leaves GrabCut no
    background to learn from; then pixels unlike the crop's border colour are the object."""
    import cv2

    h, w = arr.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    crop = arr[y1:y2, x1:x2]
    if crop.size == 0:
        return np.zeros((0, 0), dtype=bool)
    margin = 4
    if x1 >= margin or y1 >= margin or x2 <= w - margin or y2 <= h - margin:
        mask = np.zeros((h, w), np.uint8)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        rect = (x1, y1, max(1, x2 - x1), max(1, y2 - y1))
        try:
            cv2.grabCut(np.ascontiguousarray(arr[:, :, ::-1]), mask, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
            fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD))[y1:y2, x1:x2]
            if fg.sum() >= 0.05 * fg.size:
                return fg
        except cv2.error:
            pass
    bg = border_colour(crop)
    return np.abs(crop.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 60
