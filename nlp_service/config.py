"""Server settings, read from ``EAS_NLP_*`` environment variables (and overridable by the CLI).

Validated when the settings object is built, so a bad value stops the server at start-up
with a message naming the variable instead of failing on the first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_DIR = Path(".eas/models/nlp-default")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_CONTEXT_KEY_PREFIX = "eas:nlp:conversation:"
MIN_ADMIN_TOKEN_LENGTH = 16
# Settings whose values never appear in an error message.
_SECRET_FIELDS = frozenset({"admin_token"})


class NLPSettings(BaseSettings):
    """Everything the NLP server needs to start; every field is ``EAS_NLP_<NAME>`` in the environment.

    ``model_dir`` is relative to the current directory so that the quick start (``eas-nlp
    serve`` in a fresh checkout) trains and then finds its default model in one place.
    """

    # hide_input_in_errors: a ValidationError printed as is (a traceback) must not show the admin
    # token; describe_settings_error shows the other values.
    model_config = SettingsConfigDict(
        env_prefix="EAS_NLP_", extra="ignore", validate_default=True, hide_input_in_errors=True
    )

    host: str = Field("127.0.0.1", min_length=1, description="interface to listen on")
    port: int = Field(8081, ge=1, le=65535, description="TCP port to listen on")
    model_dir: Path = Field(DEFAULT_MODEL_DIR, description="model directory to serve")
    gpu_model_dir: Path | None = Field(
        None,
        description=(
            "model directory served instead of model_dir when a CUDA GPU is present (e.g. the 110M "
            "all-mpnet-base-v2 teacher); unset: model_dir everywhere"
        ),
    )
    backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto (CUDA PyTorch if a GPU, else ONNX), onnx or torch"
    )
    precision: Literal["auto", "fp32", "int8"] = Field(
        "auto", description="auto (model.int8.onnx when there is one, on CPU), fp32 or int8"
    )
    threads: int | None = Field(
        None, ge=1, description="intra-op threads per model call; unset: the cores shared by model_workers"
    )
    model_workers: int = Field(
        2, ge=1, le=64, description="model calls (micro-batches) that may run at the same time"
    )
    max_text_length: int = Field(1000, ge=1, description="longest accepted text, in characters")
    max_batch_size: int = Field(
        32, ge=1, le=4096, description="most texts per model call and per /v1/parse/batch request"
    )
    batch_wait_ms: float = Field(
        2.0, ge=0.0, le=1000.0, description="how long a request waits for others to share its model call"
    )
    gil_switch_ms: float = Field(
        1.0,
        gt=0.0,
        le=100.0,
        description=(
            "the interpreter's thread switch interval (sys.setswitchinterval) in the server process; "
            "shorter than Python's 5 ms so that a model worker back from the runtime gets the GIL "
            "sooner and a core is not left idle meanwhile (BENCHMARKS.md)"
        ),
    )
    redis_url: str = Field(DEFAULT_REDIS_URL, description="Redis holding the conversation context")
    context_ttl_seconds: int = Field(
        1800, ge=1, description="a conversation expires this long after its last turn"
    )
    context_max_turns: int = Field(10, ge=1, description="turns kept per conversation")
    context_key_prefix: str = Field(
        DEFAULT_CONTEXT_KEY_PREFIX, min_length=1, description="prefix of the conversation keys in Redis"
    )
    train_default_if_missing: bool = Field(
        True, description="train the default model from the shipped enterprise data when model_dir has none"
    )
    admin_token: SecretStr | None = Field(
        None,
        description="bearer token that POST /v1/models/reload requires; unset: reloads are refused",
    )

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"must start with redis://, rediss:// or unix://, got {value!r}")
        return value

    @field_validator("admin_token")
    @classmethod
    def _check_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        token = value.get_secret_value()
        if len(token) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters (this one has {len(token)}); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
            raise ValueError("must be printable ASCII without spaces (it is sent in an HTTP header)")
        return value


def _shown_input(field: str, value: Any) -> str:
    """The offending value as it may appear in a log: never a secret."""
    return "<hidden>" if field in _SECRET_FIELDS else repr(value)


def describe_settings_error(error: ValidationError) -> str:
    """One line per bad setting, naming its environment variable as well as the field.

    Pydantic names only the field; someone who set ``EAS_NLP_PORT=abc`` looks for that name.
    """
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        shown = _shown_input(str(item["loc"][0]) if item["loc"] else "", item.get("input"))
        lines.append(f"EAS_NLP_{field.upper()} ({field}): {item['msg']} (got {shown})")
    return "invalid NLP settings:\n  " + "\n  ".join(lines)


def threads_per_call(settings: NLPSettings) -> int:
    """``threads``, or the machine's cores split evenly between the model workers.

    Why two single-threaded calls rather than one two-threaded call on a 2-core machine:
    small matrix products scale badly across threads, and under load the second call
    keeps both cores busy (647.6 vs 534.2 parses/s, BENCHMARKS.md).
    """
    return settings.threads or max(1, (os.cpu_count() or 1) // settings.model_workers)
