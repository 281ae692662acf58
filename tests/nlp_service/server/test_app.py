"""The HTTP API in-process (httpx ASGI transport) on the real tiny model."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nlp_service.inference.parser import NLUParser
from nlp_service.server.app import create_app
from nlp_service.server.schemas import ISO_DATE_PATTERN, NOT_BLANK_PATTERN
from tests.nlp_service.server.server_helpers import (
    INVOICE,
    LEAVE,
    RecordingParser,
    copy_model_with_version,
    make_settings,
    running,
)

pytestmark = pytest.mark.anyio

ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_parse_returns_intent_alternatives_entities_and_version(
    tiny_model_dir: Path, parser: RecordingParser
) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        response = await client.post("/v1/parse", json={"text": INVOICE, "reference_date": "2024-06-03"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "intent",
        "confidence",
        "alternatives",
        "out_of_scope",
        "entities",
        "carried_entities",
        "model_version",
        "latency_ms",
    }
    assert body["intent"] == "finance.invoice_process"
    assert body["model_version"] == parser.model_version
    assert len(body["alternatives"]) == 3
    assert body["alternatives"][0]["intent"] == body["intent"]
    assert body["carried_entities"] == []
    assert body["latency_ms"] > 0
    assert {e["type"] for e in body["entities"]} >= {"invoice_id", "vendor"}
    for entity in body["entities"]:
        assert INVOICE[entity["start"] : entity["end"]] == entity["text"]


async def test_batch_endpoint_answers_in_order(tiny_model_dir: Path, parser: RecordingParser) -> None:
    texts = [INVOICE, LEAVE, "tell me a joke"]
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        response = await client.post("/v1/parse/batch", json={"items": [{"text": t} for t in texts]})
        singles = [(await client.post("/v1/parse", json={"text": t})).json() for t in texts]

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["intent"] for r in results] == [s["intent"] for s in singles]
    assert [r["entities"] for r in results] == [s["entities"] for s in singles]


BAD_PARSE_BODIES = [
    ({"text": ""}, ["body", "text"]),
    ({"text": "   \n\t "}, ["body", "text"]),
    ({"text": 42}, ["body", "text"]),
    ({"text": ["process", "invoice"]}, ["body", "text"]),
    ({"text": None}, ["body", "text"]),
    ({"text": "x" * 201}, ["body", "text"]),  # max_text_length is 200 below
    ({}, ["body", "text"]),
    ({"text": "hi", "conversation_id": "has space"}, ["body", "conversation_id"]),
    ({"text": "hi", "conversation_id": ""}, ["body", "conversation_id"]),
    ({"text": "hi", "conversation_id": 7}, ["body", "conversation_id"]),
    ({"text": "hi", "reference_date": "next tuesday"}, ["body", "reference_date"]),
    # format: date means an ISO date string; lax parsing read 0 and "0" as 1970-01-01.
    ({"text": "hi", "reference_date": 0}, ["body", "reference_date"]),
    ({"text": "hi", "reference_date": "0"}, ["body", "reference_date"]),
    ({"text": "hi", "reference_date": "2024-06-03T00:00:00"}, ["body", "reference_date"]),
    ({"text": "hi", "reference_date": "2024-02-30"}, ["body", "reference_date"]),
    ({"text": "hi", "conversation_id": "café"}, ["body", "conversation_id"]),
    ({"text": "\ufeff\u3000\x1c"}, ["body", "text"]),  # blank by any regex engine's reckoning
    ({"text": "hi", "conversationId": "c-1"}, ["body", "conversationId"]),
]


@pytest.mark.parametrize(("payload", "loc"), BAD_PARSE_BODIES)
async def test_bad_parse_input_is_422_naming_the_field(
    tiny_model_dir: Path, parser: RecordingParser, payload: dict[str, Any], loc: list[Any]
) -> None:
    app = create_app(make_settings(tiny_model_dir, max_text_length=200), parser)
    async with running(app) as client:
        response = await client.post("/v1/parse", json=payload)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert all(error["msg"] for error in response.json()["detail"])
    assert parser.batch_sizes == []  # rejected before reaching the model


async def test_text_at_the_length_limit_is_accepted(tiny_model_dir: Path, parser: RecordingParser) -> None:
    app = create_app(make_settings(tiny_model_dir, max_text_length=200), parser)
    async with running(app) as client:
        response = await client.post("/v1/parse", json={"text": "a" * 200})
    assert response.status_code == 200


BAD_BATCH_BODIES = [
    ({"items": []}, [["body", "items"]]),
    ({"items": [{"text": "hi"}] * 5}, [["body", "items"]]),  # max_batch_size is 4 below
    ({"items": "hi"}, [["body", "items"]]),
    ({}, [["body", "items"]]),
    ({"items": [{"text": "ok"}, {"text": " "}]}, [["body", "items", 1, "text"]]),
    (
        {"items": [{"text": "y" * 201}, {"text": "ok"}, {"text": "z" * 300}]},
        [["body", "items", 0, "text"], ["body", "items", 2, "text"]],
    ),
    ({"items": [{"text": 3}]}, [["body", "items", 0, "text"]]),
]


@pytest.mark.parametrize(("payload", "locs"), BAD_BATCH_BODIES)
async def test_bad_batch_input_is_422_naming_the_field(
    tiny_model_dir: Path, parser: RecordingParser, payload: dict[str, Any], locs: list[list[Any]]
) -> None:
    app = create_app(make_settings(tiny_model_dir, max_text_length=200, max_batch_size=4), parser)
    async with running(app) as client:
        response = await client.post("/v1/parse/batch", json=payload)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == locs


async def test_malformed_json_is_422(tiny_model_dir: Path, parser: RecordingParser) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        response = await client.post(
            "/v1/parse", content=b'{"text": "unterminated', headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_not_ready_until_the_model_is_loaded(tiny_model_dir: Path, tiny_predictor) -> None:
    release = threading.Event()

    def slow_load(model_dir: Path) -> NLUParser:
        release.wait(30)
        return RecordingParser(tiny_predictor)

    app = create_app(make_settings(tiny_model_dir), load_model=slow_load)
    async with running(app) as client:
        health = await client.get("/healthz")
        not_ready = await client.get("/readyz")
        early_parse = await client.post("/v1/parse", json={"text": INVOICE})
        release.set()
        assert await asyncio.to_thread(app.state.models.join, 30)
        ready = await client.get("/readyz")
        parse = await client.post("/v1/parse", json={"text": INVOICE})

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert not_ready.status_code == 503
    assert not_ready.json() == {"status": "not ready", "reason": f"loading model from {tiny_model_dir}"}
    assert early_parse.status_code == 503
    assert "loading model from" in early_parse.json()["detail"]
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["model_version"] == tiny_predictor.version
    assert (ready.json()["backend"], ready.json()["device"]) == ("onnx", "cpu")
    assert ready.json()["precision"] == tiny_predictor.precision == "int8"  # the int8 copy, on CPU
    assert parse.status_code == 200


async def test_missing_model_without_default_training_says_how_to_get_one(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    app = create_app(make_settings(missing, train_default_if_missing=False))
    async with running(app) as client:
        await asyncio.to_thread(app.state.models.join, 30)
        ready = await client.get("/readyz")
        parse = await client.post("/v1/parse", json={"text": INVOICE})

    assert ready.status_code == 503
    assert ready.json()["reason"].startswith(f"no model at {missing}")
    assert "eas-nlp train" in ready.json()["reason"]
    assert parse.status_code == 503
    assert parse.json()["detail"] == ready.json()["reason"]


async def test_readyz_reports_default_model_training(tmp_path: Path, tiny_model_dir: Path) -> None:
    target = tmp_path / "models" / "nlp-default"
    release = threading.Event()

    def fake_training(model_dir: Path) -> Path:
        # Stands in for ensure_default_model: the real one is covered in test_default_model.py.
        release.wait(30)
        copy_model_with_version(tiny_model_dir, model_dir, "default-test")
        return model_dir

    app = create_app(make_settings(target, train_default_if_missing=True), train_default=fake_training)
    async with running(app) as client:
        training = await client.get("/readyz")
        release.set()
        await asyncio.to_thread(app.state.models.join, 30)
        ready = await client.get("/readyz")

    assert training.status_code == 503
    assert training.json()["reason"].startswith(f"training the default model into {target}")
    assert ready.status_code == 200 and ready.json()["model_version"] == "default-test"


async def test_reload_swaps_the_model_while_requests_keep_succeeding(
    tmp_path: Path, tiny_model_dir: Path, parser: RecordingParser
) -> None:
    new_dir = copy_model_with_version(tiny_model_dir, tmp_path / "v2", "tiny-v2")
    app = create_app(make_settings(tiny_model_dir, batch_wait_ms=1.0, admin_token=ADMIN_TOKEN), parser)
    statuses: list[int] = []
    versions: list[str] = []
    stop = asyncio.Event()

    async def keep_parsing(client) -> None:
        while not stop.is_set():
            response = await client.post("/v1/parse", json={"text": INVOICE})
            statuses.append(response.status_code)
            if response.status_code == 200:
                versions.append(response.json()["model_version"])

    async with running(app) as client:
        clients = [asyncio.create_task(keep_parsing(client)) for _ in range(4)]
        await asyncio.sleep(0.05)
        reload = await client.post("/v1/models/reload", json={"model_dir": str(new_dir)}, headers=ADMIN)
        for _ in range(600):
            ready = (await client.get("/readyz")).json()
            if ready["model_version"] == "tiny-v2":
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*clients)
        metrics = (await client.get("/metrics")).text

    assert reload.status_code == 202
    assert reload.json() == {
        "status": "reloading",
        "model_dir": str(new_dir),
        "current_version": parser.model_version,
    }
    assert ready["model_version"] == "tiny-v2" and ready["model_dir"] == str(new_dir)
    assert statuses and set(statuses) == {200}
    assert versions[0] == parser.model_version and versions[-1] == "tiny-v2"
    # Once the new model answered, the old one never did again: the swap is atomic.
    assert versions[versions.index("tiny-v2") :] == ["tiny-v2"] * (len(versions) - versions.index("tiny-v2"))
    assert 'eas_nlp_model_reloads_total{outcome="success"} 1.0' in metrics
    assert 'eas_nlp_model_info{backend="onnx",device="cpu",version="tiny-v2"} 1.0' in metrics
    assert f'version="{parser.model_version}"' not in metrics


async def test_reload_rejects_a_directory_without_a_model(
    tmp_path: Path, tiny_model_dir: Path, parser: RecordingParser
) -> None:
    app = create_app(make_settings(tiny_model_dir, admin_token=ADMIN_TOKEN), parser)
    async with running(app) as client:
        response = await client.post("/v1/models/reload", json={"model_dir": str(tmp_path)}, headers=ADMIN)
        wrong_type = await client.post("/v1/models/reload", json={"model_dir": 3}, headers=ADMIN)

    # A well-formed path with no model at it is not found, not invalid.
    assert response.status_code == 404
    assert response.json() == {"detail": f"no model at {tmp_path} (no manifest.json)"}
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "model_dir"]


async def test_failed_reload_keeps_the_old_model(tmp_path: Path, tiny_model_dir: Path, parser) -> None:
    broken = copy_model_with_version(tiny_model_dir, tmp_path / "broken", "broken")
    (broken / "labels.json").write_text("{not json")
    app = create_app(make_settings(tiny_model_dir, admin_token=ADMIN_TOKEN), parser)
    async with running(app) as client:
        reload = await client.post("/v1/models/reload", json={"model_dir": str(broken)}, headers=ADMIN)
        await asyncio.to_thread(app.state.models.join, 30)
        ready = await client.get("/readyz")
        parse = await client.post("/v1/parse", json={"text": INVOICE})
        metrics = (await client.get("/metrics")).text

    assert reload.status_code == 202
    assert ready.status_code == 200
    assert ready.json()["model_version"] == parser.model_version
    assert ready.json()["last_reload_error"].startswith(f"failed to load {broken}")
    assert parse.status_code == 200 and parse.json()["model_version"] == parser.model_version
    assert 'eas_nlp_model_reloads_total{outcome="failure"} 1.0' in metrics


async def test_second_reload_during_a_load_is_409(tiny_model_dir: Path, tiny_predictor) -> None:
    release = threading.Event()

    def slow_load(model_dir: Path) -> NLUParser:
        release.wait(30)
        return RecordingParser(tiny_predictor)

    settings = make_settings(tiny_model_dir, admin_token=ADMIN_TOKEN)
    app = create_app(settings, RecordingParser(tiny_predictor), load_model=slow_load)
    async with running(app) as client:
        first = await client.post("/v1/models/reload", headers=ADMIN)
        second = await client.post("/v1/models/reload", headers=ADMIN)
        during = await client.get("/readyz")
        release.set()
        await asyncio.to_thread(app.state.models.join, 30)

    assert first.status_code == 202 and first.json()["model_dir"] == str(tiny_model_dir)
    assert second.status_code == 409
    assert during.status_code == 200 and during.json()["reloading"] is True


async def test_reload_is_refused_while_no_admin_token_is_configured(
    tmp_path: Path, tiny_model_dir: Path, parser: RecordingParser
) -> None:
    loads: list[Path] = []
    settings = make_settings(tiny_model_dir, admin_token=None)
    app = create_app(settings, parser, load_model=lambda d: loads.append(d) or parser)
    new_dir = copy_model_with_version(tiny_model_dir, tmp_path / "v2", "tiny-v2")
    async with running(app) as client:
        plain = await client.post("/v1/models/reload", json={"model_dir": str(new_dir)})
        with_a_token = await client.post("/v1/models/reload", json={"model_dir": str(new_dir)}, headers=ADMIN)
        ready = await client.get("/readyz")

    # Without credentials: 401 and a challenge, as for any protected resource; the reason says why
    # no credentials would help. With a token: 403, since none can be right.
    assert plain.status_code == 401 and plain.headers["WWW-Authenticate"] == "Bearer"
    assert with_a_token.status_code == 403 and "WWW-Authenticate" not in with_a_token.headers
    for response in (plain, with_a_token):
        assert "disabled" in response.json()["detail"]
        assert "EAS_NLP_ADMIN_TOKEN" in response.json()["detail"]
    assert loads == []
    assert ready.json()["model_version"] == parser.model_version and ready.json()["reloading"] is False


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": ""}, "missing Authorization header"),
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, "malformed Authorization header"),
        ({"Authorization": "Bearer"}, "malformed Authorization header"),
        ({"Authorization": ADMIN_TOKEN}, "malformed Authorization header"),
        ({"Authorization": "Bearer wrong-token-0123456789"}, "invalid admin token"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, "invalid admin token"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"}, "invalid admin token"),
    ],
)
async def test_reload_without_the_right_token_is_401(
    tiny_model_dir: Path, parser: RecordingParser, headers: dict[str, str], reason: str
) -> None:
    loads: list[Path] = []
    settings = make_settings(tiny_model_dir, admin_token=ADMIN_TOKEN)
    app = create_app(settings, parser, load_model=lambda d: loads.append(d) or parser)
    async with running(app) as client:
        response = await client.post("/v1/models/reload", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"].startswith(reason)
    assert ADMIN_TOKEN not in response.text
    assert loads == []


async def test_reload_with_the_right_token_is_202(tiny_model_dir: Path, parser: RecordingParser) -> None:
    loads: list[Path] = []
    settings = make_settings(tiny_model_dir, admin_token=ADMIN_TOKEN)
    app = create_app(settings, parser, load_model=lambda d: loads.append(d) or parser)
    async with running(app) as client:
        # The scheme is case-insensitive (RFC 7235).
        response = await client.post("/v1/models/reload", headers={"Authorization": f"bearer {ADMIN_TOKEN}"})
        await asyncio.to_thread(app.state.models.join, 30)

    assert response.status_code == 202
    assert response.json()["model_dir"] == str(tiny_model_dir)
    assert loads == [tiny_model_dir]


@pytest.mark.parametrize("configured", [True, False])
async def test_unauthenticated_reload_learns_nothing_about_the_body(
    tmp_path: Path, tiny_model_dir: Path, parser: RecordingParser, configured: bool
) -> None:
    """Authorization is checked before model_dir: no 422 saying whether a directory holds a model."""
    token = ADMIN_TOKEN if configured else None
    app = create_app(make_settings(tiny_model_dir, admin_token=token), parser)
    bad = {"Authorization": "Bearer wrong-token-0123456789"}
    async with running(app) as client:
        missing_dir = await client.post("/v1/models/reload", json={"model_dir": str(tmp_path / "nope")})
        empty_dir = await client.post("/v1/models/reload", json={"model_dir": str(tmp_path)}, headers=bad)
        wrong_type = await client.post("/v1/models/reload", json={"model_dir": 3})

    expected = [401, 401, 401] if configured else [401, 403, 401]
    assert [r.status_code for r in (missing_dir, empty_dir, wrong_type)] == expected
    for response in (missing_dir, empty_dir, wrong_type):
        assert str(tmp_path) not in response.text and "model_dir" not in response.text


async def test_a_failing_batch_fails_only_its_requests(tiny_model_dir: Path, tiny_predictor) -> None:
    parser = RecordingParser(tiny_predictor, fail_on="boom")
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        failed = await client.post("/v1/parse", json={"text": "boom goes the model"})
        fine = await client.post("/v1/parse", json={"text": INVOICE})

    assert failed.status_code == 500
    assert "model exploded on 'boom'" in failed.json()["detail"]
    assert fine.status_code == 200


async def test_openapi_documents_the_contract(tiny_model_dir: Path, parser: RecordingParser) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        schema = (await client.get("/openapi.json")).json()

    components = schema["components"]["schemas"]
    assert set(components["ParseRequest"]["properties"]) == {"text", "conversation_id", "reference_date"}
    assert components["ParseRequest"]["required"] == ["text"]
    assert "carried_entities" in components["ParseResponse"]["properties"]
    parse = schema["paths"]["/v1/parse"]["post"]
    assert parse["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ParseResponse"
    )
    assert {"400", "409", "413", "422", "503", "500"} <= set(parse["responses"])
    assert "/v1/parse/batch" in schema["paths"] and "/v1/conversations/{conversation_id}" in schema["paths"]
    reload = schema["paths"]["/v1/models/reload"]["post"]
    assert {"202", "400", "401", "403", "404", "409", "413", "422"} <= set(reload["responses"])
    assert reload["responses"]["401"]["headers"]["WWW-Authenticate"]["schema"] == {"type": "string"}
    assert reload["security"] == [{"AdminToken": []}]
    assert schema["components"]["securitySchemes"]["AdminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "EAS_NLP_ADMIN_TOKEN, sent as `Authorization: Bearer <token>`.",
    }


async def test_openapi_carries_the_limits_the_server_enforces(
    tiny_model_dir: Path, parser: RecordingParser
) -> None:
    settings = make_settings(tiny_model_dir, max_text_length=123, max_batch_size=7)
    async with running(create_app(settings, parser)) as client:
        schema = (await client.get("/openapi.json")).json()

    components = schema["components"]["schemas"]
    request = components["ParseRequest"]["properties"]
    assert request["text"]["maxLength"] == 123 and request["text"]["minLength"] == 1
    assert request["text"]["pattern"] == NOT_BLANK_PATTERN
    assert request["conversation_id"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9._:-]+$"
    assert request["reference_date"]["anyOf"][0] == {
        "type": "string",
        "format": "date",
        "pattern": ISO_DATE_PATTERN,
    }
    assert components["BatchParseRequest"]["properties"]["items"]["maxItems"] == 7
    conversation = schema["paths"]["/v1/conversations/{conversation_id}"]
    for method in ("get", "delete"):
        parameter = conversation[method]["parameters"][0]
        assert parameter["schema"]["pattern"] == "^[A-Za-z0-9._:-]+$"
        assert {"422", "503"} <= set(conversation[method]["responses"])
    assert "precision" in components["ReadyResponse"]["required"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/conversations/chat-1", "DELETE, GET, OPTIONS"),
        ("/v1/parse", "OPTIONS, POST"),
        ("/readyz", "GET, OPTIONS"),
    ],
)
async def test_options_and_unserved_methods_list_every_method_of_the_path(
    tiny_model_dir: Path, parser: RecordingParser, path: str, allowed: str
) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        options = await client.options(path)
        put = await client.put(path)
        unknown = await client.options("/v1/nothing-here")

    assert options.status_code == 204 and options.headers["Allow"] == allowed and options.content == b""
    assert put.status_code == 405 and put.headers["Allow"] == allowed
    assert put.json() == {"detail": f"method PUT is not allowed here; allowed: {allowed}"}
    assert unknown.status_code == 404


async def test_undecodable_body_is_a_documented_400(tiny_model_dir: Path, parser: RecordingParser) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        response = await client.post(
            "/v1/parse", content=b"\xff\xfe\xfd", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
    assert parser.batch_sizes == []


async def test_oversized_body_is_413_before_parsing(tiny_model_dir: Path, parser: RecordingParser) -> None:
    settings = make_settings(tiny_model_dir, max_text_length=10, max_batch_size=1)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 10_000

    async with running(create_app(settings, parser)) as client:
        response = await client.post("/v1/parse", json={"text": "x" * 200_000})
        chunked = await client.post(
            "/v1/parse", content=chunks(), headers={"content-type": "application/json"}
        )
        documented = (await client.get("/openapi.json")).json()["paths"]["/v1/parse"]["post"]["responses"][
            "413"
        ]
    assert response.status_code == 413
    assert parser.batch_sizes == []
    # Both shapes the two layers answer with are in the document.
    assert response.headers["content-type"].startswith("text/plain")
    assert chunked.status_code == 413 and chunked.json() == {"detail": "Content Too Large"}
    assert set(documented["content"]) == {"text/plain", "application/json"}
