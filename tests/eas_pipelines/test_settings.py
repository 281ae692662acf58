"""EASSettings: defaults, validation messages named by environment variable, the generated JWT secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from eas_pipelines.settings import EASSettings, SettingsError, load_settings, mask_url, read_or_create_secret


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No EAS_* variable of the machine leaks in, and data_dir never lands in the checkout."""
    for name in list(os.environ):
        if name.startswith("EAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EAS_DATA_DIR", str(tmp_path / "data"))


def error_of(**env: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(SettingsError) as info:
            load_settings()
    return str(info.value)


def test_defaults() -> None:
    settings = EASSettings()
    assert settings.database_url is None and settings.redis_url is None
    assert settings.embedded_postgres_port == 55432 and settings.embedded_redis_port == 56379
    assert (settings.gateway_host, settings.gateway_port) == ("127.0.0.1", 8080)
    assert settings.nlp_urls == ["http://127.0.0.1:8081"]
    assert (settings.nlp_port, settings.dagster_port) == (8081, 3000)
    assert settings.jwt_secret is None
    assert (settings.jwt_issuer, settings.jwt_audience) == ("eas", "eas-gateway")
    assert settings.rate_limit_per_minute == 120
    assert settings.min_confidence == 0.6
    assert settings.approval_amount_threshold == 10000.0
    assert settings.approval_deadline_hours == 24.0
    assert (settings.worker_count, settings.worker_heartbeat_seconds) == (2, 5.0)
    assert settings.fast_lane_fallback_seconds == 30.0
    assert settings.max_attempts == 3
    assert settings.log_level == "INFO"
    assert (settings.retry_backoff_seconds, settings.po_match_tolerance) == (10.0, 0.05)
    assert (settings.default_currency, settings.leave_notice_days) == ("USD", 3)
    assert settings.leave_blackout == ["12-24:01-01"]


def test_default_data_dir_is_dot_eas_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EAS_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    settings = EASSettings()
    assert settings.data_dir == tmp_path / ".eas"
    assert settings.log_dir == tmp_path / ".eas" / "logs"


def test_bad_port_is_named_by_its_env_variable() -> None:
    message = error_of(EAS_GATEWAY_PORT="abc")
    assert "EAS_GATEWAY_PORT: Input should be a valid integer" in message
    assert "'abc'" in message


@pytest.mark.parametrize("value", ["0", "65536", "-1"])
def test_port_out_of_range(value: str) -> None:
    assert "EAS_EMBEDDED_REDIS_PORT: Input should be" in error_of(EAS_EMBEDDED_REDIS_PORT=value)


def test_every_bad_variable_is_listed_at_once() -> None:
    message = error_of(
        EAS_GATEWAY_PORT="x", EAS_RATE_LIMIT_PER_MINUTE="0", EAS_MIN_CONFIDENCE="1.5", EAS_LOG_LEVEL="loud"
    )
    lines = message.splitlines()
    assert lines[0] == "invalid EAS settings:"
    for name in ("EAS_GATEWAY_PORT", "EAS_RATE_LIMIT_PER_MINUTE", "EAS_MIN_CONFIDENCE", "EAS_LOG_LEVEL"):
        assert sum(line.strip().startswith(f"{name}:") for line in lines) == 1, message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("EAS_NLP_URLS", "ftp://nlp:8081", "'ftp://nlp:8081': scheme must be one of http://, https://"),
        ("EAS_NLP_URLS", "http://:8081", "URL has no host"),
        ("EAS_NLP_URLS", "http://nlp:99999", "not a valid URL"),
        (
            "EAS_REDIS_URL",
            "http://localhost:6379",
            "EAS_REDIS_URL: scheme must be one of redis://, rediss://",
        ),
        ("EAS_DATABASE_URL", "mysql://db/eas", "EAS_DATABASE_URL: must be a PostgreSQL URL"),
        ("EAS_WORKER_HEARTBEAT_SECONDS", "0", "EAS_WORKER_HEARTBEAT_SECONDS: Input should be greater than 0"),
        ("EAS_MAX_ATTEMPTS", "0", "EAS_MAX_ATTEMPTS: Input should be greater than or equal to 1"),
        ("EAS_APPROVAL_DEADLINE_HOURS", "-1", "EAS_APPROVAL_DEADLINE_HOURS: Input should be greater than 0"),
        ("EAS_FAST_LANE_FALLBACK_SECONDS", "6", "at least twice EAS_WORKER_HEARTBEAT_SECONDS"),
        ("EAS_JWT_SECRET", "short", "EAS_JWT_SECRET: must be at least 32 characters"),
    ],
)
def test_bad_values(name: str, value: str, expected: str) -> None:
    assert expected in error_of(**{name: value})


def test_secret_and_url_password_never_shown_in_errors() -> None:
    message = error_of(EAS_JWT_SECRET="hunter2-is-too-short", EAS_DATABASE_URL="mysql://u:topsecret@db/eas")
    assert "hunter2" not in message
    assert "topsecret" not in message
    assert "mysql://u:***@db/eas" in message


def test_nlp_urls_comma_separated_json_or_list() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EAS_NLP_URLS", " http://a:8081/ , https://b.example:443 ,")
        assert load_settings(generate_secrets=False).nlp_urls == ["http://a:8081", "https://b.example:443"]
        patch.setenv("EAS_NLP_URLS", '["http://a:1", "http://b:2"]')
        assert load_settings(generate_secrets=False).nlp_urls == ["http://a:1", "http://b:2"]
        patch.setenv("EAS_NLP_URLS", "http://one:1")
        assert load_settings(generate_secrets=False).nlp_urls == ["http://one:1"]
    assert load_settings(generate_secrets=False, nlp_urls=["http://c:3"]).nlp_urls == ["http://c:3"]
    assert "EAS_NLP_URLS: List should have at least 1 item" in error_of(EAS_NLP_URLS=" , ")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/eas", "postgresql+psycopg2://u:p@db:5432/eas"),
        ("postgresql://u:p@db/eas", "postgresql+psycopg2://u:p@db/eas"),
        ("postgresql+psycopg2://db/eas", "postgresql+psycopg2://db/eas"),
        ("postgresql+asyncpg://db/eas?sslmode=require", "postgresql+psycopg2://db/eas?sslmode=require"),
    ],
)
def test_database_url_normalised_to_psycopg2(
    given: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EAS_DATABASE_URL", given)
    assert load_settings(generate_secrets=False).database_url == expected


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_DATABASE_URL", "")
    monkeypatch.setenv("EAS_REDIS_URL", "")
    settings = load_settings(generate_secrets=False)
    assert settings.database_url is None and settings.redis_url is None


def test_redis_urls_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@cache:6380/1", "unix:///run/redis.sock"):
        monkeypatch.setenv("EAS_REDIS_URL", url)
        assert load_settings(generate_secrets=False).redis_url == url


def test_clashing_ports_are_named() -> None:
    message = error_of(EAS_DAGSTER_PORT="8080")
    assert "EAS_DAGSTER_PORT: port 8080 is also EAS_GATEWAY_PORT" in message


def test_embedded_port_clash_only_matters_when_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_EMBEDDED_POSTGRES_PORT", "3000")
    assert "EAS_EMBEDDED_POSTGRES_PORT: port 3000 is also EAS_DAGSTER_PORT" in error_of()
    monkeypatch.setenv("EAS_DATABASE_URL", "postgresql://db/eas")
    load_settings(generate_secrets=False)


def test_log_level_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_LOG_LEVEL", "debug")
    assert load_settings(generate_secrets=False).log_level == "DEBUG"


def test_jwt_secret_generated_once_with_0600_and_reused(tmp_path: Path) -> None:
    first = load_settings()
    secret_file = tmp_path / "data" / "jwt_secret"
    assert first.jwt_secret is not None
    assert secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(first.jwt_secret.get_secret_value()) >= 32
    assert first.jwt_secret.get_secret_value() == secret_file.read_text().strip()
    second = load_settings()
    assert second.jwt_secret is not None
    assert second.jwt_secret.get_secret_value() == first.jwt_secret.get_secret_value()
    assert "*****" in repr(second) and first.jwt_secret.get_secret_value() not in repr(second)


def test_jwt_secret_from_environment_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EAS_JWT_SECRET", "x" * 40)
    settings = load_settings()
    assert settings.jwt_secret is not None and settings.jwt_secret.get_secret_value() == "x" * 40
    assert not (tmp_path / "data" / "jwt_secret").exists()


def test_secret_file_too_open_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("abc\n")
    path.chmod(0o644)
    assert read_or_create_secret(path) == "abc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("")
    with pytest.raises(SettingsError, match="is empty"):
        read_or_create_secret(path)


def test_concurrent_secret_creation_yields_one_secret(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "race" / "secret"
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda _: read_or_create_secret(path), range(32)))
    assert len(values) == 1
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary file left behind


def test_urls_hidden_from_repr_and_masked() -> None:
    settings = load_settings(generate_secrets=False, database_url="postgresql://u:pw@db/eas")
    assert "pw" not in repr(settings)
    assert mask_url(settings.database_url) == "postgresql+psycopg2://u:***@db/eas"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert mask_url(None) is None


def test_leave_blackout_is_a_checked_comma_list_and_set_but_empty_means_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EAS_LEAVE_BLACKOUT", " 12-24:01-01, 2026-07-01:2026-07-03 ")
    assert EASSettings().leave_blackout == ["12-24:01-01", "2026-07-01:2026-07-03"]
    monkeypatch.setenv("EAS_LEAVE_BLACKOUT", "")
    assert EASSettings().leave_blackout == []
    assert "EAS_LEAVE_BLACKOUT: blackout '12-24': expected START:END" in error_of(EAS_LEAVE_BLACKOUT="12-24")
    assert "EAS_LEAVE_BLACKOUT: month must be in 1..12" in error_of(EAS_LEAVE_BLACKOUT="13-01:13-02")
