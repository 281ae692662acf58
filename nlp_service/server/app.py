"""The FastAPI app: parse endpoints, conversations, health, readiness, metrics and reloads.

The app answers as soon as it starts; the model loads (or the default model trains) in a
background thread, and until it is there ``/readyz`` and the parse endpoints answer 503
with the reason. Parses go through the micro-batcher, conversations through the Redis
context store; a parse without ``conversation_id`` never touches Redis, so the service
keeps parsing when Redis is down.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis.asyncio
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.exceptions import RedisError

from eas_asgi.methods import AllowedMethodsMiddleware
from nlp_service.config import NLPSettings, threads_per_call
from nlp_service.context import (
    AsyncConversationStore,
    ConversationBusyError,
    UnknownConversationError,
    validate_conversation_id,
)
from nlp_service.context.conversation import CONVERSATION_ID_MAX_LENGTH
from nlp_service.default_model import ensure_default_model, has_model
from nlp_service.inference.parser import NLUParser
from nlp_service.inference.result import ParseResult
from nlp_service.server.batcher import BatchFailedError, MicroBatcher, NoModelError
from nlp_service.server.metrics import MetricsMiddleware, ServerMetrics
from nlp_service.server.model_manager import LoadModel, ModelManager, ReloadInProgressError, TrainDefault
from nlp_service.server.schemas import (
    CONVERSATION_ID_PATTERN,
    BatchParseRequest,
    BatchParseResponse,
    ConversationResponse,
    ErrorResponse,
    HealthResponse,
    NotReadyResponse,
    ParseRequest,
    ParseResponse,
    ReadyResponse,
    ReloadRequest,
    ReloadResponse,
    ResetResponse,
    ValidationErrorResponse,
    conversation_to_dict,
    parse_result_to_dict,
)
from nlp_service.server.tracing import fastapi_telemetry, parse_span, set_model_version

ConversationIdParam = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=CONVERSATION_ID_MAX_LENGTH,
        description="Letters, digits and . _ : -",
        json_schema_extra={"pattern": CONVERSATION_ID_PATTERN},
    ),
]

# Seconds; a Redis that does not answer must not hold a request for long.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 5.0


class JSONBytesResponse(JSONResponse):
    """JSON written by orjson (several times faster than ``json``; FastAPI's own
    ``ORJSONResponse`` is deprecated). Unknown value types are written as their ``str``.

    A ``JSONResponse`` subclass so that OpenAPI documents the endpoints' response models.
    """

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def _invalid(errors: Sequence[tuple[tuple[str | int, ...], str]]) -> RequestValidationError:
    """A 422 shaped like FastAPI's own: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg} for loc, msg in errors])


def _redacted(url: str) -> str:
    """The Redis URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def max_body_size(settings: NLPSettings) -> int:
    """Bytes of the largest body a valid request can have: a full batch of the longest texts,
    every character escaped as ``\\uXXXX``, plus room for the other fields."""
    return settings.max_batch_size * (settings.max_text_length * 6 + 1024) + 4096


# Reloads load a model from any directory the server can read, so they need the admin token.
# auto_error=False: the route says itself why a request is refused (401 or 403, with a reason).
_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="EAS_NLP_ADMIN_TOKEN, sent as `Authorization: Bearer <token>`.",
)
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
RELOADS_DISABLED = "model reloads are disabled: set EAS_NLP_ADMIN_TOKEN on the NLP server to enable them"

# Every error the routes can answer, with its body; each route picks its own (see _documented).
_RESPONSES: dict[int, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "The body could not be decoded (not UTF-8, -16 or -32 JSON).",
    },
    401: {
        "model": ErrorResponse,
        "description": "No admin token, a malformed one or a wrong one.",
        "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    },
    403: {
        "model": ErrorResponse,
        "description": "A token was sent, but reloads are disabled: EAS_NLP_ADMIN_TOKEN is unset.",
    },
    404: {"model": ErrorResponse, "description": "Unknown conversation (never started, expired or reset)."},
    409: {"model": ErrorResponse, "description": "Other turns kept changing the conversation; retry."},
    # Starlette's body limit answers in plain text when Content-Length gives the size away, and
    # FastAPI in JSON when a chunked body outgrows the limit while being read.
    413: {
        "model": ErrorResponse,
        "description": "The body is larger than any valid request can be.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    422: {
        "model": ValidationErrorResponse,
        "description": "Invalid body or parameters (including the server's text length and batch size "
        "limits); each error names its field.",
    },
    500: {"model": ErrorResponse, "description": "The model failed on the batch this request was in."},
    503: {"model": ErrorResponse, "description": "No model loaded yet, or the context store is unreachable."},
}
_PARSE_ERRORS = (400, 409, 413, 422, 500, 503)


def _documented(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``codes``; ``e409="..."`` rewords one for the route."""
    chosen: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        chosen[code] = {**_RESPONSES[code]}
        if f"e{code}" in descriptions:
            chosen[code]["description"] = descriptions[f"e{code}"]
    return chosen


def _with_settings_limits(schema: dict[str, Any], settings: NLPSettings) -> dict[str, Any]:
    """The OpenAPI document with the limits that come from the settings written in.

    The request models are static, but the longest text and the largest batch are configured per
    server; a document without them would promise that longer texts and larger batches are valid.
    """
    models = schema.get("components", {}).get("schemas", {})
    if "ParseRequest" in models:
        models["ParseRequest"]["properties"]["text"]["maxLength"] = settings.max_text_length
    if "BatchParseRequest" in models:
        models["BatchParseRequest"]["properties"]["items"]["maxItems"] = settings.max_batch_size
    return schema


def create_app(
    settings: NLPSettings,
    parser: NLUParser | None = None,
    *,
    load_model: LoadModel | None = None,
    train_default: TrainDefault | None = None,
) -> FastAPI:
    """Build the app. With ``parser`` it serves that parser at once; otherwise it loads
    ``settings.model_dir`` in the background after start-up.

    ``load_model`` (model directory -> parser) and ``train_default`` (model directory ->
    model directory) replace the real loader and default-model trainer; tests use them
    to control timing and to train a tiny model.
    """
    metrics = ServerMetrics()
    if load_model is None:

        def load_model(model_dir: Path) -> NLUParser:
            return NLUParser.load(model_dir, settings.backend, threads_per_call(settings), settings.precision)

    manager = ModelManager(
        settings,
        metrics,
        load_model=load_model,
        train_default=train_default or ensure_default_model,
        parser=parser,
    )
    batcher = MicroBatcher(
        lambda: manager.parser,
        max_batch_size=settings.max_batch_size,
        wait_s=settings.batch_wait_ms / 1000.0,
        no_model_reason=lambda: manager.reason,
        on_batch=metrics.observe_batch,
        workers=settings.model_workers,
    )
    redis_location = _redacted(settings.redis_url)
    stores: list[AsyncConversationStore] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis.asyncio.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
        )
        stores.append(
            AsyncConversationStore(
                client,
                ttl_seconds=settings.context_ttl_seconds,
                max_turns=settings.context_max_turns,
                key_prefix=settings.context_key_prefix,
            )
        )
        await batcher.start()
        manager.start()
        try:
            yield
        finally:
            await batcher.stop()
            await stores.pop().aclose()

    app = FastAPI(
        title="EAS NLP service",
        version="1",
        summary="Intent, entities and conversation context for enterprise requests.",
        lifespan=lifespan,
        default_response_class=JSONBytesResponse,
        # FastAPI's built-in OpenTelemetry: server spans of parses, continuing the gateway's trace,
        # only when tracing is set up (nlp_service.server.tracing). Its metrics stay off: unset, it
        # looks providers up in os.environ on every request (a measurable share of a parse), and
        # the service exports Prometheus metrics instead.
        telemetry=fastapi_telemetry(),
        # Refuse oversized bodies (413) before reading them, not after parsing megabytes of JSON.
        max_body_size=max_body_size(settings),
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.models = manager
    app.state.batcher = batcher
    # Added first, so it runs inside the metrics: 405s and OPTIONS answers are counted too.
    app.add_middleware(AllowedMethodsMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document (built once, then cached by FastAPI) with the settings' limits in it."""
        if app.openapi_schema is None:
            app.openapi_schema = _with_settings_limits(default_openapi(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def require_admin(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
    ) -> None:
        """Let the request through only with ``Authorization: Bearer <EAS_NLP_ADMIN_TOKEN>``.

        A dependency, so it runs before the route's body is validated or looked at: a caller
        without the token learns nothing about the server's directories.

        Credentials are asked for first (401 with a Bearer challenge, RFC 9110), whether or not a
        token is configured; a caller who sends one while none is configured is refused with 403,
        naming the variable, since no token could be right.
        """
        if credentials is None:
            reason = (
                "malformed Authorization header: expected 'Bearer <token>'"
                if request.headers.get("Authorization")
                else "missing Authorization header: expected 'Bearer <token>'"
            )
            if settings.admin_token is None:
                reason += f" ({RELOADS_DISABLED})"
            raise HTTPException(401, reason, headers=_BEARER_CHALLENGE)
        if settings.admin_token is None:
            raise HTTPException(403, RELOADS_DISABLED)
        expected = settings.admin_token.get_secret_value().encode()
        if not hmac.compare_digest(credentials.credentials.encode(), expected):
            raise HTTPException(401, "invalid admin token", headers=_BEARER_CHALLENGE)

    def store() -> AsyncConversationStore:
        if not stores:
            raise RuntimeError("the app was not started (its lifespan has not run)")
        return stores[0]

    def check_texts(texts: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        limit = settings.max_text_length
        errors = [
            (loc, f"text must be at most {limit} characters, got {len(text)}")
            for loc, text in texts
            if len(text) > limit
        ]
        if errors:
            raise _invalid(errors)

    async def with_context(request: ParseRequest, result: ParseResult) -> ParseResult:
        if request.conversation_id is None:
            return result
        return await store().apply(request.conversation_id, request.text, result)

    @app.exception_handler(NoModelError)
    async def _no_model(request: Request, exc: NoModelError) -> Response:
        return JSONBytesResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(BatchFailedError)
    async def _batch_failed(request: Request, exc: BatchFailedError) -> Response:
        return JSONBytesResponse({"detail": str(exc)}, status_code=500)

    @app.exception_handler(RedisError)
    async def _redis_down(request: Request, exc: RedisError) -> Response:
        detail = f"context store unavailable (Redis at {redis_location}): {exc}"
        return JSONBytesResponse({"detail": detail}, status_code=503)

    @app.exception_handler(UnknownConversationError)
    async def _unknown_conversation(request: Request, exc: UnknownConversationError) -> Response:
        return JSONBytesResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ConversationBusyError)
    async def _busy(request: Request, exc: ConversationBusyError) -> Response:
        return JSONBytesResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(ReloadInProgressError)
    async def _reloading(request: Request, exc: ReloadInProgressError) -> Response:
        return JSONBytesResponse({"detail": str(exc)}, status_code=409)

    @app.get("/healthz", response_model=HealthResponse, tags=["operations"])
    async def healthz() -> Response:
        """The process is up and answering (says nothing about the model; see /readyz)."""
        return JSONBytesResponse({"status": "ok"})

    @app.get(
        "/readyz",
        response_model=ReadyResponse,
        responses={503: {"model": NotReadyResponse, "description": "No model loaded yet; says why."}},
        tags=["operations"],
    )
    async def readyz() -> Response:
        """200 once a model is serving, 503 with the reason before (loading, training, missing)."""
        current = manager.parser
        if current is None:
            return JSONBytesResponse({"status": "not ready", "reason": manager.reason}, status_code=503)
        return JSONBytesResponse(
            {
                "status": "ready",
                "model_version": current.model_version,
                "backend": current.backend,
                "precision": current.precision,
                "device": current.device,
                "model_dir": str(manager.model_dir),
                "reloading": manager.loading,
                "last_reload_error": manager.last_reload_error,
            }
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.post(
        "/v1/parse", response_model=ParseResponse, responses=_documented(*_PARSE_ERRORS), tags=["parse"]
    )
    async def parse(body: ParseRequest) -> Response:
        """Intent and entities of one text; with ``conversation_id``, resolved against that conversation."""
        started = time.perf_counter()
        check_texts([(("body", "text"), body.text)])
        with parse_span(1, body.conversation_id is not None) as span:
            result = await batcher.parse(body.text, body.reference_date)
            result = await with_context(body, result)
            set_model_version(span, result.model_version)
        return JSONBytesResponse(parse_result_to_dict(result, (time.perf_counter() - started) * 1000.0))

    @app.post(
        "/v1/parse/batch",
        response_model=BatchParseResponse,
        responses=_documented(*_PARSE_ERRORS),
        tags=["parse"],
    )
    async def parse_batch(body: BatchParseRequest) -> Response:
        """Several texts in one request, answered in order; conversation turns are recorded in order."""
        started = time.perf_counter()
        if len(body.items) > settings.max_batch_size:
            raise _invalid(
                [
                    (
                        ("body", "items"),
                        f"at most {settings.max_batch_size} items per batch, got {len(body.items)}",
                    )
                ]
            )
        check_texts([(("body", "items", i, "text"), item.text) for i, item in enumerate(body.items)])
        conversations = any(item.conversation_id is not None for item in body.items)
        with parse_span(len(body.items), conversations) as span:
            results = await batcher.parse_many([(item.text, item.reference_date) for item in body.items])
            resolved = [
                await with_context(item, result) for item, result in zip(body.items, results, strict=True)
            ]
            set_model_version(span, resolved[0].model_version if resolved else None)
        latency_ms = (time.perf_counter() - started) * 1000.0
        return JSONBytesResponse({"results": [parse_result_to_dict(r, latency_ms) for r in resolved]})

    def conversation_id_of(value: str) -> str:
        try:
            return validate_conversation_id(value)
        except ValueError as exc:
            raise _invalid([(("path", "conversation_id"), str(exc))]) from None

    @app.get(
        "/v1/conversations/{conversation_id}",
        response_model=ConversationResponse,
        responses=_documented(404, 422, 503, e503="The context store is unreachable."),
        tags=["conversations"],
    )
    async def get_conversation(conversation_id: ConversationIdParam) -> Response:
        """The conversation's recent turns and the entities in context; 404 if unknown or expired."""
        conversation = await store().get(conversation_id_of(conversation_id))
        return JSONBytesResponse(conversation_to_dict(conversation))

    @app.delete(
        "/v1/conversations/{conversation_id}",
        response_model=ResetResponse,
        responses=_documented(422, 503, e503="The context store is unreachable."),
        tags=["conversations"],
    )
    async def reset_conversation(conversation_id: ConversationIdParam) -> Response:
        """Forget the conversation; idempotent (``deleted`` says whether there was one)."""
        deleted = await store().reset(conversation_id_of(conversation_id))
        return JSONBytesResponse({"conversation_id": conversation_id, "deleted": deleted})

    @app.post(
        "/v1/models/reload",
        response_model=ReloadResponse,
        status_code=202,
        responses=_documented(
            400,
            401,
            403,
            404,
            409,
            413,
            422,
            e404="No model in model_dir (no manifest.json there).",
            e409="A model is being loaded already.",
        ),
        dependencies=[Depends(require_admin)],
        tags=["operations"],
    )
    async def reload_model(body: ReloadRequest | None = None) -> Response:
        """Load a model (default: the served directory again) in the background and swap it in when
        ready; the current model keeps serving meanwhile. Follow progress on /readyz.

        Needs ``Authorization: Bearer <EAS_NLP_ADMIN_TOKEN>`` (401 without it); refused (403) while
        that is unset."""
        target = Path(body.model_dir) if body and body.model_dir else manager.model_dir
        if not has_model(target):
            # 404, not 422: model_dir is a well-formed path; there is just no model at it.
            raise HTTPException(404, f"no model at {target} (no manifest.json)")
        target = manager.reload(target)
        current = manager.parser
        return JSONBytesResponse(
            {
                "status": "reloading",
                "model_dir": str(target),
                "current_version": current.model_version if current else None,
            },
            status_code=202,
        )

    return app
