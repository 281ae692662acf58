"""The NLP service against its own OpenAPI document: schemathesis, every phase, every check.

The real app on a real socket, serving the tiny model, with conversations in the real Redis (keys
under this test's prefix). Reloads are enabled with an admin token that schemathesis sends; the
loader hands back the model already served, so a reload costs nothing and swaps in the same model.
"""

from __future__ import annotations

from pathlib import Path

from nlp_service.server.app import create_app
from tests.eas_pipelines.gateway.servers import ServerThread
from tests.nlp_service.server.contract import run_contract
from tests.nlp_service.server.server_helpers import RecordingParser, make_settings

ADMIN_TOKEN = "contract-admin-token-0123456789"


def test_the_nlp_service_does_what_its_openapi_document_says(
    tiny_model_dir: Path, parser: RecordingParser, redis_url: str, redis_key_prefix: str
) -> None:
    settings = make_settings(
        tiny_model_dir,
        redis_url=redis_url,
        context_key_prefix=redis_key_prefix,
        admin_token=ADMIN_TOKEN,
        batch_wait_ms=0.0,
        max_text_length=300,
        max_batch_size=4,
    )
    app = create_app(settings, parser, load_model=lambda model_dir: parser)
    with ServerThread(app) as server:
        report = run_contract(server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    report.assert_complete(operations={"POST /v1/parse", "POST /v1/models/reload", "Stateful tests"})
