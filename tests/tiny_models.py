"""Tiny randomly initialised models built from configs, saved to disk, for the roles that have
no offline weights. They run the real loading and inference code; their outputs mean nothing,
so tests assert types, shapes and artifact plumbing only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

SEED = 0


def _bytes_to_unicode() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def clip_tokenizer(path: Path, max_length: int = 16):
    """A character-level CLIP BPE tokenizer (no merges): enough to run CLIP-family code."""
    from transformers import CLIPTokenizer

    path.mkdir(parents=True, exist_ok=True)
    chars = _bytes_to_unicode()
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": i + len(chars) for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (path / "vocab.json").write_text(json.dumps(vocab))
    (path / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(path / "vocab.json"), str(path / "merges.txt"), model_max_length=max_length, pad_token="<|endoftext|>"
    )


def bert_tokenizer(path: Path):
    from transformers import BertTokenizer

    path.mkdir(parents=True, exist_ok=True)
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "a",
        "photo",
        "of",
        "cat",
        "dog",
        "what",
        "is",
        "this",
        "the",
        "color",
        "?",
        "red",
        "blue",
        "yes",
        "no",
    ] + list("abcdefghijklmnopqrstuvwxyz")
    (path / "vocab.txt").write_text("\n".join(dict.fromkeys(words)))
    return BertTokenizer(str(path / "vocab.txt"))


def _vit(**kw) -> dict:
    base = dict(
        hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8
    )
    return base | kw


def _text(vocab: int, **kw) -> dict:
    base = dict(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=64,
    )
    return base | kw


def blip(path: Path, vqa: bool = False) -> Path:
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipForQuestionAnswering,
        BlipImageProcessor,
        BlipProcessor,
    )

    torch.manual_seed(SEED)
    tok = bert_tokenizer(path / "tok")
    config = BlipConfig(
        text_config=_text(tok.vocab_size, bos_token_id=2, eos_token_id=3, pad_token_id=0, sep_token_id=3),
        vision_config=_vit(),
        projection_dim=32,
    )
    model = (BlipForQuestionAnswering if vqa else BlipForConditionalGeneration)(config)
    model.save_pretrained(path)
    BlipProcessor(BlipImageProcessor(size={"height": 32, "width": 32}), tok).save_pretrained(path)
    return path


def owlvit(path: Path) -> Path:
    from transformers import OwlViTConfig, OwlViTForObjectDetection, OwlViTImageProcessor, OwlViTProcessor

    torch.manual_seed(SEED)
    tok = clip_tokenizer(path / "tok", max_length=16)
    config = OwlViTConfig(
        text_config=_text(len(tok), max_position_embeddings=16), vision_config=_vit(), projection_dim=32
    )
    OwlViTForObjectDetection(config).save_pretrained(path)
    OwlViTProcessor(
        OwlViTImageProcessor(size={"height": 32, "width": 32}, crop_size={"height": 32, "width": 32}), tok
    ).save_pretrained(path)
    return path


def clip(path: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(SEED)
    tok = clip_tokenizer(path / "tok", max_length=64)  # char-level: "This is a photo of {}." is long
    config = CLIPConfig(
        text_config=_text(len(tok), max_position_embeddings=64), vision_config=_vit(), projection_dim=32
    )
    CLIPModel(config).save_pretrained(path)
    CLIPProcessor(
        CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}), tok
    ).save_pretrained(path)
    return path


def vit_classifier(path: Path, labels=("tabby", "teapot", "bus")) -> Path:
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(SEED)
    head: dict[str, Any] = {  # PretrainedConfig's own keyword arguments, untyped in ViTConfig
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    config = ViTConfig(**_vit(), **head)
    ViTForImageClassification(config).save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


def stable_diffusion(path: Path, kind: str = "text2image") -> Path:
    """kind: text2image (UNet 4 in-channels) | instruct-pix2pix (8) | inpaint (9)."""
    import diffusers
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(SEED)
    tok = clip_tokenizer(path / "tok_build", max_length=16)
    in_channels = {"text2image": 4, "instruct-pix2pix": 8, "inpaint": 9}[kind]
    unet = diffusers.UNet2DConditionModel(
        sample_size=16,
        in_channels=in_channels,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
    )
    vae = diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(32, 32),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    text = CLIPTextModel(CLIPTextConfig(**_text(len(tok), max_position_embeddings=16)))
    scheduler = diffusers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    cls: Any = {
        "text2image": diffusers.StableDiffusionPipeline,
        "instruct-pix2pix": diffusers.StableDiffusionInstructPix2PixPipeline,
        "inpaint": diffusers.StableDiffusionInpaintPipeline,
    }[kind]
    pipe = cls(
        vae=vae,
        text_encoder=text,
        tokenizer=tok,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    return path


def mobile_sam(path: Path) -> Path:
    """An untrained MobileSAM checkpoint, named so ultralytics picks the MobileSAM builder."""
    from ultralytics.models.sam.build import build_mobile_sam

    torch.manual_seed(SEED)
    path.mkdir(parents=True, exist_ok=True)
    ckpt = path / "mobile_sam.pt"
    model = build_mobile_sam()
    # Random weights predict ~0 mask quality and ultralytics drops those masks; a positive bias
    # on the quality head keeps the real post-processing path (one mask per prompt) in play.
    with torch.no_grad():
        model.mask_decoder.iou_prediction_head.layers[-1].bias.fill_(3.0)
    torch.save(model.state_dict(), ckpt)
    return ckpt
