"""EAS settings, read from ``EAS_*`` environment variables and validated once, at start.

Every process of the deployment (``eas up``, the gateway, workers, the Dagster code location)
calls :func:`load_settings` first. A bad value stops the process there with one line per bad
variable, named as the operator typed it (``EAS_GATEWAY_PORT: Input should be a valid integer``),
instead of surfacing as a confusing failure on the first request.

``None`` for ``database_url`` / ``redis_url`` is meaningful: it asks for the embedded servers that
:mod:`eas_pipelines.embedded` starts under ``data_dir``, so a fresh laptop needs no configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from eas_pipelines.blackouts import parse_blackouts
from eas_pipelines.k8s_resources import AgentResources, parse_agent_resources

ENV_PREFIX = "EAS_"
JWT_SECRET_FILE = "jwt_secret"
# HS256 keys shorter than the hash output (32 bytes) weaken the signature; PyJWT warns about them too.
MIN_JWT_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# SQLAlchemy 2.1 no longer guesses the driver the way 1.x did; psycopg2 is the one installed.
DATABASE_SCHEME = "postgresql+psycopg2"
_POSTGRES_SCHEMES = ("postgres", "postgresql")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_HTTP_SCHEMES = ("http", "https")


class SettingsError(Exception):
    """The environment holds at least one invalid ``EAS_*`` value; the message lists every one."""


def env_name(field: str) -> str:
    """The environment variable that sets ``field`` (``gateway_port`` -> ``EAS_GATEWAY_PORT``)."""
    return f"{ENV_PREFIX}{field.upper()}"


def _check_url(value: str, schemes: tuple[str, ...], *, need_host: bool = True) -> str:
    """Reject URLs that would only fail later, deep inside a client library, with a vaguer message."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if parts.scheme not in schemes:
        raise ValueError(f"scheme must be one of {', '.join(s + '://' for s in schemes)}")
    if need_host and not parts.hostname:
        raise ValueError("URL has no host")
    if port == 0:
        raise ValueError("URL port must be between 1 and 65535")
    return value


def mask_url(url: str | None) -> str | None:
    """``url`` with its password replaced by ``***``: for logs and the ``eas up`` banner."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))


class _SetButEmpty(PydanticBaseSettingsSource):
    """The variables for which "set but empty" is a value of its own, not "unset".

    ``EAS_LEAVE_BLACKOUT=`` means "no blackout at all"; ``env_ignore_empty`` (right for every other
    variable) would read it as unset and apply the default window instead.
    """

    FIELDS = ("leave_blackout",)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            name: ""
            for name in self.FIELDS
            if env_name(name) in os.environ and not os.environ[env_name(name)].strip()
        }


class EASSettings(BaseSettings):
    """Everything the EAS processes share; every field is ``EAS_<NAME>`` in the environment.

    Empty variables count as unset (``EAS_DATABASE_URL=`` means "embedded"), because compose files
    and shell scripts often export empty values for things they do not configure. Unknown ``EAS_*``
    variables are ignored: other components (``EAS_NLP_*``, ``EAS_TEST_*``) share the prefix.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True, validate_default=True
    )

    data_dir: Path = Field(
        Path(".eas"), description="state of the embedded servers, secrets and logs; made absolute at load"
    )
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset starts the embedded server", repr=False
    )
    redis_url: str | None = Field(None, description="Redis URL; unset starts the embedded server", repr=False)
    embedded_postgres_port: int = Field(55432, ge=1, le=65535, description="port of the embedded PostgreSQL")
    embedded_redis_port: int = Field(56379, ge=1, le=65535, description="port of the embedded Redis")
    gateway_host: str = Field("127.0.0.1", min_length=1, description="interface the intake API listens on")
    gateway_port: int = Field(8080, ge=1, le=65535, description="port of the intake API")
    nlp_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8081"],
        min_length=1,
        description="NLP replicas, called round-robin; comma-separated or a JSON list in the environment",
    )
    nlp_port: int = Field(8081, ge=1, le=65535, description="port of the NLP server `eas up` starts")
    dagster_port: int = Field(3000, ge=1, le=65535, description="port of the Dagster UI `eas up` starts")
    sandbox: bool = Field(
        True, description="`eas up` starts the vendors' local emulators for every connector not configured"
    )
    sandbox_port: int = Field(8443, ge=1, le=65535, description="HTTPS port of the emulators")
    sandbox_mtls_port: int = Field(8444, ge=1, le=65535, description="mutual-TLS port of the emulators (ADP)")
    sandbox_smtp_port: int = Field(8025, ge=1, le=65535, description="SMTP port of the email emulator")
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 key of the intake API tokens; unset: generated once into data_dir"
    )
    jwt_issuer: str = Field("eas", min_length=1)
    jwt_audience: str = Field("eas-gateway", min_length=1)
    rate_limit_per_minute: int = Field(120, gt=0, description="requests a client may make per minute")
    min_confidence: float = Field(
        0.6, ge=0.0, le=1.0, description="classifications below this go to human review"
    )
    approval_amount_threshold: float = Field(
        10000.0, ge=0.0, description="amounts above this need an approval"
    )
    approval_deadline_hours: float = Field(24.0, gt=0.0, description="approvals past this are escalated")
    approval_second_threshold: float = Field(
        50000.0, ge=0.0, description="invoice amounts above this need a second approval, after the first"
    )
    approval_second_role: str = Field(
        "cfo", min_length=1, max_length=100, description="the approver role of that second approval"
    )
    expense_approval_threshold: float = Field(
        500.0, ge=0.0, description="expense claims above this wait for a finance manager"
    )
    worker_count: int = Field(
        2, ge=0, description="warm fast-lane workers `eas up` starts; 0 sends everything to the standard lane"
    )
    worker_heartbeat_seconds: float = Field(5.0, gt=0.0, description="how often a worker says it is alive")
    worker_metrics_port: int = Field(
        9101,
        ge=0,
        le=65535,
        description="port of a worker's Prometheus /metrics (0: none); `eas up` gives its workers this "
        "port and the next ones",
    )
    run_server_port: int = Field(
        8099,
        ge=0,
        le=65535,
        description="127.0.0.1 port of `eas run-server`, which forks standard-lane runs from a warm "
        "process (0: none; every run then starts a new process)",
    )
    exporter_port: int = Field(
        9102, ge=1, le=65535, description="port of `eas exporter`'s Prometheus /metrics"
    )
    metrics_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="interface the workers' and the exporter's /metrics listen on (0.0.0.0 in a cluster)",
    )
    fast_lane_fallback_seconds: float = Field(
        30.0, gt=0.0, description="no live worker for this long: requests go to the standard lane"
    )
    max_attempts: int = Field(3, ge=1, description="failed runs of a request before it fails for good")
    retry_backoff_seconds: float = Field(
        10.0,
        ge=0.0,
        description="base of the retry backoff (recovery.backoff_delay: doubles, capped, jittered)",
    )
    po_match_tolerance: float = Field(
        0.05, ge=0.0, description="an invoice may exceed its purchase order's open amount by this fraction"
    )
    default_currency: str = Field("USD", min_length=1, description="currency of an amount typed without one")
    leave_notice_days: int = Field(
        3, ge=0, description="days of notice before leave starts (sick leave exempt)"
    )
    leave_blackout: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["12-24:01-01"],
        description="windows vacation may not overlap: MM-DD:MM-DD (yearly) or YYYY-MM-DD:YYYY-MM-DD, "
        "comma-separated; set but empty: none",
    )
    log_level: str = Field("INFO", description="one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    k8s_agent_resources: Annotated[AgentResources, NoDecode] = Field(
        default_factory=dict,
        description="pod resources of each agent's standard-lane runs on Kubernetes, JSON: "
        '{"agent": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}}; unset: the run launcher\'s',
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: a non-empty variable (env_settings) before a set-but-empty one.
        return init_settings, env_settings, _SetButEmpty(settings_cls), dotenv_settings, file_secret_settings

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # Absolute so that child processes started with another working directory share it.
        return value.expanduser().absolute()

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        base = scheme.split("+", 1)[0]
        if not sep or base not in _POSTGRES_SCHEMES:
            raise ValueError("must be a PostgreSQL URL (postgresql://user:password@host:port/db)")
        return _check_url(f"{DATABASE_SCHEME}://{rest}", (DATABASE_SCHEME,))

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _check_url(value, _REDIS_SCHEMES, need_host=not value.startswith("unix://"))

    @field_validator("nlp_urls", mode="before")
    @classmethod
    def _split_nlp_urls(cls, value: Any) -> Any:
        """Accept ``a,b`` as well as ``["a", "b"]``: a comma list is what people type in a shell."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"looks like a JSON list but is not valid JSON ({exc})") from None
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("nlp_urls")
    @classmethod
    def _check_nlp_urls(cls, value: list[str]) -> list[str]:
        # Trailing slashes removed so that clients can append "/v1/parse" without doubling it.
        checked = []
        for url in value:
            try:
                checked.append(_check_url(url, _HTTP_SCHEMES).rstrip("/"))
            except ValueError as exc:  # name the bad entry: the input shown is the whole list
                raise ValueError(f"{url!r}: {exc}") from None
        return checked

    @field_validator("leave_blackout", mode="before")
    @classmethod
    def _parse_leave_blackout(cls, value: Any) -> Any:
        """A comma list (what people type in a shell) or a list; every window checked."""
        if isinstance(value, str):
            return parse_blackouts(value)
        if isinstance(value, list | tuple):
            return parse_blackouts(",".join(str(spec) for spec in value))
        return value

    @field_validator("default_currency")
    @classmethod
    def _strip_currency(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_JWT_SECRET_LENGTH} characters (unset it to have one generated)"
            )
        return value

    @field_validator("k8s_agent_resources", mode="before")
    @classmethod
    def _parse_k8s_agent_resources(cls, value: Any) -> Any:
        """JSON text from the environment, or a mapping from code; checked by :mod:`.k8s_resources`."""
        return parse_agent_resources(value)

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("fast_lane_fallback_seconds")
    @classmethod
    def _fallback_exceeds_heartbeats(cls, value: float, info: ValidationInfo) -> float:
        # A live worker beats every heartbeat; a window of under two beats declares it dead whenever
        # one beat is a little late, flapping requests between the lanes.
        heartbeat = info.data.get("worker_heartbeat_seconds")
        if heartbeat is not None and value < 2 * heartbeat:
            raise ValueError(f"must be at least twice {env_name('worker_heartbeat_seconds')} ({heartbeat})")
        return value

    @model_validator(mode="after")
    def _distinct_ports(self) -> EASSettings:
        """Two servers of one ``eas up`` on one port: the second would fail to start, later and vaguer."""
        ports = {
            "gateway_port": self.gateway_port,
            "nlp_port": self.nlp_port,
            "dagster_port": self.dagster_port,
            "exporter_port": self.exporter_port,
        }
        if self.worker_metrics_port:
            ports["worker_metrics_port"] = self.worker_metrics_port
        if self.sandbox:
            ports.update(
                sandbox_port=self.sandbox_port,
                sandbox_mtls_port=self.sandbox_mtls_port,
                sandbox_smtp_port=self.sandbox_smtp_port,
            )
        if self.database_url is None:
            ports["embedded_postgres_port"] = self.embedded_postgres_port
        if self.redis_url is None:
            ports["embedded_redis_port"] = self.embedded_redis_port
        seen: dict[int, str] = {}
        clashes = []
        for field, port in ports.items():
            if port in seen:
                clashes.append(f"{env_name(field)}: port {port} is also {env_name(seen[port])}")
            else:
                seen[port] = field
        if clashes:
            raise ValueError("; ".join(clashes))
        return self

    @property
    def log_dir(self) -> Path:
        """Where the embedded servers and the processes of ``eas up`` write their logs."""
        return self.data_dir / "logs"


def _shown_input(field: str, value: Any) -> str | None:
    """The offending value as it may appear in a log: never a secret, URLs without their password."""
    if field == "jwt_secret" or not isinstance(value, str | int | float):
        return None
    if field in ("database_url", "redis_url") and isinstance(value, str):
        try:
            value = mask_url(value)
        except ValueError:
            return "<unparseable URL>"
    return repr(value)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = item["loc"]
        field = str(loc[0]) if loc else ""
        name = (env_name(field) if loc else "EAS settings") + "".join(f"[{part}]" for part in loc[1:])
        message = item["msg"].removeprefix("Value error, ")
        shown = _shown_input(field, item.get("input")) if loc and item["type"] != "missing" else None
        lines.append(f"{name}: {message}" + (f" (got {shown})" if shown is not None else ""))
    return "invalid EAS settings:\n  " + "\n  ".join(lines)


def read_or_create_secret(path: Path, *, nbytes: int = 48) -> str:
    """The secret kept in ``path``, generating it (0600) the first time.

    Safe when several processes start at once (gateway and workers under ``eas up``): the secret is
    written to a private temporary file and hard-linked into place, so exactly one generated value
    wins and nobody reads a half-written file. A file readable by others is tightened to 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(nbytes) + "\n")
            with contextlib.suppress(FileExistsError):  # another process won the race: use its secret
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    value = path.read_text().strip()
    if not value:
        raise SettingsError(f"{path} is empty; delete it to have a new secret generated")
    return value


def ensure_jwt_secret(data_dir: Path) -> SecretStr:
    """The generated JWT key of this data dir; generated once, so tokens survive restarts."""
    return SecretStr(read_or_create_secret(data_dir / JWT_SECRET_FILE))


def load_settings(*, generate_secrets: bool = True, **overrides: Any) -> EASSettings:
    """Validate the environment (plus ``overrides``, which win) and return the settings.

    Raises :class:`SettingsError` listing every bad variable by its environment name. With
    ``generate_secrets`` (the default) an unset ``jwt_secret`` is filled from ``data_dir/jwt_secret``,
    created on first use, so every later reader of the settings sees a key.
    """
    try:
        settings = EASSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    if generate_secrets and settings.jwt_secret is None:
        settings = settings.model_copy(update={"jwt_secret": ensure_jwt_secret(settings.data_dir)})
    return settings
