"""Asking an image a question with a vision-language model: the served LMM (OpenAI-compatible,
image as a data URL) or a transformers model (BLIP-style VQA/captioning, or a chat LMM)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from PIL import Image

from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ToolError
from mmagent.core.llm.messages import image_part
from mmagent.core.models import ModelManager
from mmagent.core.options import TransformersOptions
from mmagent.core.untrusted import IMAGE_TEXT_RULE
from mmagent.tools.hf import HfSource, load_hf


class HfImageTextModel:
    """transformers image+text -> text. `vqa=True` prefers a VQA head (e.g. BlipForQuestionAnswering)."""

    def __init__(self, src: HfSource, vqa: bool) -> None:
        from transformers import (
            AutoConfig,
            AutoModelForImageTextToText,
            AutoModelForVisualQuestionAnswering,
            AutoProcessor,
        )
        from transformers.models.auto.modeling_auto import MODEL_FOR_VISUAL_QUESTION_ANSWERING_MAPPING_NAMES

        kw = {"local_files_only": src.local_only}
        config = AutoConfig.from_pretrained(src.location, **kw)
        auto = (
            AutoModelForVisualQuestionAnswering
            if vqa and config.model_type in MODEL_FOR_VISUAL_QUESTION_ANSWERING_MAPPING_NAMES
            else AutoModelForImageTextToText
        )
        self.processor = AutoProcessor.from_pretrained(src.location, **kw)
        model = auto.from_pretrained(src.location, dtype=src.dtype, **kw)
        self.model = model.to(src.device).eval()  # type: ignore[arg-type]  # transformers' stub of `to` wants a model
        self.device, self.dtype = src.device, src.dtype
        self._lock = threading.Lock()

    @property
    def model_type(self) -> str:
        return str(self.model.config.model_type)

    def __call__(self, image: Image.Image, prompt: str | None, max_new_tokens: int = 48, raw: bool = False) -> str:
        """Generated text; `raw` keeps special tokens (grounding models put boxes in them)."""
        import torch

        if prompt and not raw and getattr(self.processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
            text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
            inputs = self.processor(images=[image], text=[text], return_tensors="pt")
        else:
            inputs = self.processor(images=image, text=prompt, return_tensors="pt")
        inputs = {
            k: (v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device))
            for k, v in inputs.items()
            if hasattr(v, "to")
        }
        with self._lock, torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        if (
            not self.model.config.is_encoder_decoder
            and "input_ids" in inputs
            and out.shape[1] > inputs["input_ids"].shape[1]
            and torch.equal(out[:, : inputs["input_ids"].shape[1]], inputs["input_ids"])
        ):
            out = out[:, inputs["input_ids"].shape[1] :]  # decoder-only models echo the prompt
        return self.processor.batch_decode(out, skip_special_tokens=not raw)[0].strip()


def load_hf_image_text(
    role: str, cfg: RoleConfig, settings: Settings, manager: ModelManager, vqa: bool
) -> HfImageTextModel:
    return load_hf(role, cfg, settings, manager, lambda src: HfImageTextModel(src, vqa))


def ask_served(llm: Any, image: Image.Image, prompt: str, purpose: str) -> str:
    """One question to the served LMM, the image sent as a base64 data URL."""
    message = HumanMessage(content=[{"type": "text", "text": prompt}, image_part(image)])
    return llm.complete([SystemMessage(content=IMAGE_TEXT_RULE), message], purpose=purpose).strip()


def no_vlm_reason(role: str, cfg: RoleConfig) -> str | None:
    """Why this role cannot look at images, or None if it can."""
    if cfg.backend in ("openai", "transformers"):
        return None
    return (
        f"no vision-language model for the {role} role: it is '{cfg.backend}' (a text-only model), and no "
        f"VLM weights exist offline; set MMAGENT_LMM_URL to a served LMM, or "
        f"MMAGENT_{role.upper()}__BACKEND=transformers with MMAGENT_{role.upper()}__MODEL=<local path>"
    )


def run_vlm(
    role: str,
    cfg: RoleConfig,
    settings: Settings,
    manager: ModelManager,
    llm: Callable[[str], Any],
    image: Image.Image,
    prompt: str | None,
    vqa: bool,
) -> tuple[str, str]:
    """(text, model name) from the role's VLM; ToolError when the role has none.
    `prompt` None: a transformers captioner's unconditional caption."""
    reason = no_vlm_reason(role, cfg)
    if reason:
        raise ToolError(reason)
    if cfg.backend == "openai":
        return ask_served(llm(role), image, prompt or "", purpose=role), f"served:{cfg.model or settings.lmm_model}"
    model = load_hf_image_text(role, cfg, settings, manager, vqa)
    max_new_tokens = cfg.options_as(TransformersOptions).max_new_tokens
    return model(image, prompt, max_new_tokens=max_new_tokens), f"transformers:{cfg.model}"
