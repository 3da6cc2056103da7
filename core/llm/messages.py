"""Message helpers shared by backends: OpenAI dict conversion and images as data URLs."""

from __future__ import annotations

import base64
import io
from typing import Any

from langchain_core.messages import BaseMessage
from PIL import Image

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def to_openai_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        content = m.content
        if isinstance(content, list):
            # An embedded text model cannot see images: keep the text parts only.
            content = "\n".join(
                p if isinstance(p, str) else p.get("text", "")
                for p in content
                if isinstance(p, str) or p.get("type") == "text"
            )
        out.append({"role": _ROLES.get(m.type, "user"), "content": content})
    return out


MAX_SIDE = 1280  # images larger than this are downscaled before sending


def sent_size(image: Image.Image, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The size the model sees after image_data_url (for mapping its pixel coordinates back)."""
    w, h = image.size
    if max(w, h) <= max_side:
        return w, h
    f = max_side / max(w, h)
    return max(1, round(w * f)), max(1, round(h * f))


def image_data_url(image: Image.Image, max_side: int = MAX_SIDE) -> str:
    """PNG data URL (what OpenAI-compatible servers such as vLLM accept for images)."""
    img = image
    if max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_part(image: Image.Image) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image_data_url(image)}}
