"""The retraining loop on a real NLP service: training set with a correction, a tiny retrain, the
evaluation against the serving model on the fixed test split, and promotion through the service's
reload endpoint only when the candidate is not worse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from eas_pipelines.agents.learning.assets import (
    CANDIDATE,
    CHECK,
    EVALUATION,
    LEARNING_ASSETS,
    PROMOTED,
    TRAINING_SET,
)
from eas_pipelines.agents.learning.evaluation import not_worse
from eas_pipelines.agents.learning.models import NlpModelsResource, PromotionFailed
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.store import CorrectionStore, RequestStore
from nlp_service.inference.parser import NLUParser
from nlp_service.server.app import create_app as create_nlp_app
from tests.eas_pipelines.dagster_support import queued_request
from tests.eas_pipelines.gateway.servers import ServerThread
from tests.nlp_service.server.server_helpers import make_settings

ADMIN_TOKEN = "learning-tests-admin-token-0123456789"
TEXT = "need next monday off for a dentist visit"


@pytest.fixture
def nlp_service(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    """A real NLP service serving the tiny model, reloads enabled with the admin token."""
    monkeypatch.setenv("EAS_NLP_ADMIN_TOKEN", ADMIN_TOKEN)
    settings = make_settings(tiny_model_dir, batch_wait_ms=0.0, admin_token=ADMIN_TOKEN)
    app = create_nlp_app(settings, parser=NLUParser.load(tiny_model_dir, "onnx", threads=1))
    with ServerThread(app) as server:
        yield server


def run_config(encoder: Path) -> dict[str, Any]:
    overrides = {
        "encoder": str(encoder),
        "epochs": "1",
        "max_steps": "3",
        "threads": "1",
        "export_int8": "false",
        "head_lr": "0.005",
    }
    return {
        "ops": {
            "learning__training_set": {"config": {"per_intent_limit": 2}},
            "learning__candidate_model": {"config": {"train_overrides": overrides}},
        }
    }


def test_a_correction_is_trained_on_evaluated_and_promoted_only_if_not_worse(
    request_store: RequestStore,
    migrated_database_url: str,
    tiny_encoder_dir: Path,
    nlp_service: ServerThread,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    record = queued_request(
        request_store, TEXT, "hr.leave_balance", [], client_id=f"c-{uuid.uuid4().hex[:6]}"
    )
    correction, _ = CorrectionStore(request_store).record(
        record.id, corrected_intent="hr.leave_request", reviewer="client:reviewer"
    )
    models = NlpModelsResource(nlp_urls=[nlp_service.url], models_dir=str(tmp_path / "models"))
    serving_before = httpx.get(f"{nlp_service.url}/readyz").json()["model_dir"]

    result = dg.materialize(
        LEARNING_ASSETS,
        resources={"store": RequestStoreResource(database_url=migrated_database_url), "nlp_models": models},
        run_config=run_config(tiny_encoder_dir),
        instance=dagster_instance,
    )

    assert result.success
    dataset = result.asset_value(TRAINING_SET)
    assert TEXT.split() in [list(u.words) for u in dataset.split("train") if u.intent == "hr.leave_request"]
    candidate = Path(result.asset_value(CANDIDATE))
    assert (candidate / "manifest.json").is_file()
    evaluation = result.asset_value(EVALUATION)
    assert evaluation["current_dir"] == serving_before
    assert evaluation["promote"] == not_worse(evaluation["candidate"], evaluation["current"]).promote
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == (CHECK, evaluation["promote"])
    promoted = result.asset_value(PROMOTED)
    serving_after = httpx.get(f"{nlp_service.url}/readyz").json()["model_dir"]
    if evaluation["promote"]:
        assert promoted["model_dir"] == serving_after != serving_before
    else:
        assert promoted["promoted"] is False and serving_after == serving_before
    assert (
        correction.id
        in result.asset_materializations_for_node("learning__training_set")[0]
        .metadata["correction_ids"]
        .value
    )


def test_promotion_reloads_the_service_and_is_refused_without_the_token(
    tiny_model_dir: Path, nlp_service: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = NlpModelsResource(nlp_urls=[nlp_service.url], models_dir=str(tmp_path / "models"))

    target = models.promote(tiny_model_dir, "tiny-v2")

    ready = httpx.get(f"{nlp_service.url}/readyz").json()
    assert ready["model_dir"] == str(target) and ready["status"] == "ready"
    assert (target / "manifest.json").is_file()
    monkeypatch.setenv("EAS_NLP_ADMIN_TOKEN", "a-wrong-token-that-is-long-enough-0000")
    with pytest.raises(PromotionFailed, match="reload refused: 401"):
        models.promote(tiny_model_dir, "tiny-v3")
    monkeypatch.delenv("EAS_NLP_ADMIN_TOKEN")
    with pytest.raises(PromotionFailed, match="EAS_NLP_ADMIN_TOKEN is not set"):
        models.promote(tiny_model_dir, "tiny-v4")
