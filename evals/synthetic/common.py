"""What every synthetic family shares: saving images, picking one phrasing of a question."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image


def save(img: Image.Image, out_dir: Path, name: str) -> str:
    path = out_dir / f"{name}.png"
    if not path.exists():
        img.save(path)
    return str(path)


def phrase(rng: random.Random, templates: list[str], **values: object) -> str:
    """One of several phrasings, so a benchmark does not test one sentence pattern."""
    return rng.choice(templates).format(**values)
