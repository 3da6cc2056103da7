"""Errors that carry a message meant for a person (CLI/UI) or for the planner LLM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class MMAgentError(Exception):
    """Base class: the message is complete and readable; no traceback needed."""


class UserInputError(MMAgentError):
    """The user gave something unusable (bad path, bad image, empty question). CLI exit code 2."""


class ConfigError(UserInputError):
    """The configuration names something that cannot work (unknown backend, bad value)."""


class ModelNotFoundError(UserInputError):
    """No weights found for a model; the message lists every place tried and how to fix it."""

    def __init__(self, model: str, tried: list[str], how_to: str):
        self.model = model
        self.tried = tried
        lines = [f"Model '{model}' could not be found. Places tried, in order:"]
        lines += [f"  - {t}" for t in tried]
        lines.append(how_to)
        super().__init__("\n".join(lines))


class ToolError(MMAgentError):
    """A tool could not do what it was asked; returned to the planner as an observation."""


class UnknownArtifactError(ToolError):
    def __init__(self, artifact_id: str, known: list[str]):
        shown = ", ".join(known[-12:]) or "none yet"
        super().__init__(f"unknown artifact id '{artifact_id}'. Known ids: {shown}")
        self.artifact_id = artifact_id


class StructuredOutputError(MMAgentError):
    """The LLM did not produce valid structured output even after a repair attempt.

    `last_valid` holds the last reply that matched the schema but failed a semantic check,
    so a caller can still salvage it (e.g. drop evidence ids that do not exist).
    """

    def __init__(self, message: str, last_valid: object | None = None):
        super().__init__(message)
        self.last_valid = last_valid


class BackendUnavailableError(MMAgentError):
    """A model server cannot be reached, or a backend's package is not installed."""


class RunCancelled(MMAgentError):
    """The user stopped the run (UI stop button); raised at the next tool or model call."""


def validation_problems(exc: ValidationError, limit: int | None = None, unnamed: str = "", quote: bool = False) -> str:
    """A pydantic ValidationError as one readable line: "field.path: message; ...".

    validation_problems(err)  # "planner_kind: Value error, unknown planner 'x'; ..."
    """

    def where(e: Any) -> str:
        path = ".".join(str(p) for p in e["loc"]) or unnamed
        return f"field '{path}'" if quote else path

    return "; ".join(f"{where(e)}: {e['msg']}" for e in exc.errors()[:limit])
