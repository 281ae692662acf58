"""Server settings: defaults, environment variables, and messages for bad values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from nlp_service.config import NLPSettings, describe_settings_error, threads_per_call


def test_defaults_are_the_quick_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("EAS_NLP_"):
            monkeypatch.delenv(name)
    settings = NLPSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8081)
    assert settings.model_dir == Path(".eas/models/nlp-default")
    assert settings.gpu_model_dir is None  # model_dir on every machine
    assert (settings.backend, settings.threads) == ("auto", None)
    assert (settings.max_text_length, settings.max_batch_size, settings.batch_wait_ms) == (1000, 32, 2.0)
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.context_ttl_seconds, settings.context_max_turns) == (1800, 10)
    assert settings.train_default_if_missing is True
    assert settings.admin_token is None


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_NLP_PORT", "9000")
    monkeypatch.setenv("EAS_NLP_BACKEND", "onnx")
    monkeypatch.setenv("EAS_NLP_THREADS", "2")
    monkeypatch.setenv("EAS_NLP_MODEL_DIR", "/srv/models/v3")
    monkeypatch.setenv("EAS_NLP_GPU_MODEL_DIR", "/srv/models/mpnet")
    monkeypatch.setenv("EAS_NLP_TRAIN_DEFAULT_IF_MISSING", "false")
    monkeypatch.setenv("EAS_NLP_ADMIN_TOKEN", "s3cret-admin-token-0123")
    settings = NLPSettings()
    assert (settings.port, settings.backend, settings.threads) == (9000, "onnx", 2)
    assert settings.model_dir == Path("/srv/models/v3")
    assert settings.gpu_model_dir == Path("/srv/models/mpnet")
    assert settings.train_default_if_missing is False
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret-admin-token-0123"
    assert "s3cret" not in repr(settings)


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_NLP_PORT", "9000")
    assert NLPSettings(port=9001).port == 9001


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("EAS_NLP_PORT", "abc", "EAS_NLP_PORT (port)"),
        ("EAS_NLP_PORT", "70000", "EAS_NLP_PORT (port)"),
        ("EAS_NLP_BACKEND", "tensorflow", "EAS_NLP_BACKEND (backend)"),
        ("EAS_NLP_THREADS", "0", "EAS_NLP_THREADS (threads)"),
        ("EAS_NLP_MODEL_WORKERS", "0", "EAS_NLP_MODEL_WORKERS (model_workers)"),
        ("EAS_NLP_MAX_BATCH_SIZE", "0", "EAS_NLP_MAX_BATCH_SIZE (max_batch_size)"),
        ("EAS_NLP_BATCH_WAIT_MS", "-1", "EAS_NLP_BATCH_WAIT_MS (batch_wait_ms)"),
        ("EAS_NLP_REDIS_URL", "localhost:6379", "EAS_NLP_REDIS_URL (redis_url)"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        NLPSettings()
    message = describe_settings_error(caught.value)
    assert expected in message
    assert repr(value) in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "at least 16 characters (this one has 0)"),
        ("short-secret", "at least 16 characters (this one has 12)"),
        ("fifteen-chars-x", "at least 16 characters (this one has 15)"),
        ("sixteen chars ok", "printable ASCII without spaces"),
        ("sixteen-chars-ok\n", "printable ASCII without spaces"),
        ("sixteen-chars-\u00e9k", "printable ASCII without spaces"),
    ],
)
def test_a_bad_admin_token_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("EAS_NLP_ADMIN_TOKEN", value)
    with pytest.raises(ValidationError) as caught:
        NLPSettings()
    message = describe_settings_error(caught.value)
    assert "EAS_NLP_ADMIN_TOKEN (admin_token)" in message and expected in message
    assert "(got <hidden>)" in message
    if value:
        assert value not in message and value not in str(caught.value)


def test_an_admin_token_of_16_characters_is_accepted() -> None:
    settings = NLPSettings(admin_token="sixteen-chars-ok")
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "sixteen-chars-ok"


@pytest.mark.parametrize(
    ("cores", "workers", "threads", "expected"),
    [(2, 2, None, 1), (16, 2, None, 8), (1, 2, None, 1), (8, 1, None, 8), (8, 2, 3, 3)],
)
def test_threads_per_call_split_the_cores_between_the_workers(
    monkeypatch: pytest.MonkeyPatch, cores: int, workers: int, threads: int | None, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    settings = NLPSettings(model_workers=workers, threads=threads)
    assert threads_per_call(settings) == expected
