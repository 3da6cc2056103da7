"""An evaluation is a small config (data source, prompt style, metric, planner, models), as in
lmms-eval: adding a benchmark means a new TOML file, not a new script."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from mmagent.core.errors import UserInputError, validation_problems


class DataConfig(BaseModel):
    source: Literal[
        "synthetic",
        "jsonl",
        "vqav2",
        "okvqa",
        "gqa",
        "textvqa",
        "docvqa",
        "aokvqa",
        "snli-ve",
        "scienceqa",
        "vcr",
        "refcoco",
    ] = "synthetic"
    n: int = Field(default=30, ge=1)  # synthetic: how many questions
    seed: int = 0
    families: list[str] | None = None
    path: str | None = None  # jsonl: a file of evals.schema.Question records
    image_root: str | None = None  # prefix for relative image paths
    annotations: str | None = None  # VQAv2 / OK-VQA annotations; RefCOCO: COCO instances.json
    split: str | None = None  # val2014 (COCO file names); ScienceQA test/val; RefCOCO val/testA/testB
    splits_file: str | None = None  # ScienceQA pid_splits.json
    image_only: bool = True  # ScienceQA: only questions with an image (the IMG subset LLaVA reports)
    balanced_only: bool = True  # GQA
    mode: Literal["mc", "da"] = "mc"  # A-OKVQA: multiple choice or direct answer


class RayConfig(BaseModel):
    """Questions spread over Ray actors, each holding a warm Agent (`mmagent eval --ray`)."""

    model_config = {"extra": "forbid"}
    address: str | None = None  # a running cluster ("auto", "ray://host:10001"); None: start a local one
    actors: int = Field(default=2, ge=1)
    num_cpus: float = Field(default=1.0, ge=0)  # reserved per actor
    num_gpus: float = Field(default=0.0, ge=0)  # per actor: the tool models' GPU share (0 on CPU)
    questions_per_actor: int = Field(default=1, ge=1)  # in flight at once in one actor (threads)
    max_retries: int = Field(default=2, ge=0)  # a question whose actor died is retried this often


class EvalConfig(BaseModel):
    name: str
    data: DataConfig = Field(default_factory=DataConfig)
    planner: str = "plan"
    limit: int | None = None  # random subset of this size (seeded), as the papers use
    subset_seed: int = 0
    workers: int = Field(default=1, ge=1)
    prompt_suffix: str = ""  # prompt style: appended to every question
    settings: dict[str, Any] = Field(default_factory=dict)  # agent settings overrides (tool_cache is on by default)
    ray: RayConfig | None = None  # run on Ray (a [ray] table, or `--ray`); None: threads in this process


def load_config(path: str | Path) -> EvalConfig:
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"evaluation config not found: {p}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{p} is not valid TOML: {exc}") from None
    data.setdefault("name", p.stem)
    try:
        return EvalConfig.model_validate(data)
    except ValidationError as exc:
        raise UserInputError(f"{p}: {validation_problems(exc)}") from None
