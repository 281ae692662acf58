"""The learning loop as Dagster assets: training set -> candidate model -> evaluation -> promotion.

- ``learning/training_set``: the shipped enterprise data (``nlp_service/enterprise/data``) plus the
  newest correction of each corrected request (:mod:`eas_pipelines.store.corrections`).
- ``learning/candidate_model``: a model trained on it with the NLP service's trainer, written under
  ``<models_dir>/candidates/<run id>``. ``train_overrides`` are :class:`TrainConfig` settings by name
  (``epochs``, ``max_steps``, ``encoder``...), as ``eas-nlp train --set`` takes them.
- ``learning/evaluation``: candidate and serving model scored on the same fixed test split (the
  shipped one), metrics in the metadata, and the check ``candidate_not_worse``.
- ``learning/promoted_model``: when the candidate is not worse, it is copied to the promoted folder
  and every NLP replica reloads it (:meth:`NlpModelsResource.promote`), audited; otherwise the
  serving model stays and the metadata says why.

``learning_retrain`` materialises the four; its weekly schedule ships stopped: retraining takes
minutes of CPU and needs the NLP admin token, so an operator turns it on.
"""

from pathlib import Path
from typing import Any

import dagster as dg
from rich.console import Console

from eas_pipelines.agents.learning.dataset import DEFAULT_COPIES, build_training_set
from eas_pipelines.agents.learning.evaluation import COMPARED, not_worse, score
from eas_pipelines.agents.learning.models import NlpModelsResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.store import CorrectionStore
from nlp_service.data.schema import Dataset
from nlp_service.data.seqio import load_seq_folder
from nlp_service.enterprise.labels import OOS_LABEL

GROUP = "learning"
TRAINING_SET = dg.AssetKey([GROUP, "training_set"])
CANDIDATE = dg.AssetKey([GROUP, "candidate_model"])
EVALUATION = dg.AssetKey([GROUP, "evaluation"])
PROMOTED = dg.AssetKey([GROUP, "promoted_model"])
CHECK = "candidate_not_worse"
SHOWN_CORRECTIONS = 20


def shipped_data() -> Dataset:
    from nlp_service.enterprise import DATA_DIR

    return load_seq_folder(Path(DATA_DIR), OOS_LABEL)


class TrainingSetConfig(dg.Config):
    per_intent_limit: int | None = None  # the first N examples of each intent per split (small runs)
    correction_copies: int = DEFAULT_COPIES


class CandidateConfig(dg.Config):
    train_overrides: dict[str, str] = {}


class EvaluationConfig(dg.Config):
    tolerance: float = 0.0


@dg.asset(key=TRAINING_SET, group_name=GROUP)
def training_set(config: TrainingSetConfig, store: RequestStoreResource) -> dg.Output[Dataset]:
    """The shipped enterprise data with the reviewers' corrections added to its train split."""
    corrections = CorrectionStore(store.get_store()).latest()
    dataset, added = build_training_set(
        shipped_data(),
        [(c.text, c.corrected_intent, c.corrected_entities) for c in corrections],
        copies=config.correction_copies,
        per_intent_limit=config.per_intent_limit,
    )
    rows = "\n".join(
        f"| {c.id} | {c.request_id or '-'} | {c.model_intent or '-'} | {c.corrected_intent} | {c.source} |"
        for c in corrections[-SHOWN_CORRECTIONS:]
    )
    table = "| id | request | model said | corrected to | source |\n|---|---|---|---|---|\n" + rows
    return dg.Output(
        dataset,
        metadata={
            **{f"{name}_examples": len(examples) for name, examples in dataset.splits.items()},
            "corrections": len(corrections),
            "corrections_used": len(added),
            "correction_ids": dg.MetadataValue.json([c.id for c in corrections]),
            "latest_corrections": dg.MetadataValue.md(table),
        },
    )


@dg.asset(key=CANDIDATE, group_name=GROUP, ins={"dataset": dg.AssetIn(TRAINING_SET)})
def candidate_model(
    context: dg.AssetExecutionContext,
    config: CandidateConfig,
    dataset: Dataset,
    nlp_models: NlpModelsResource,
) -> dg.Output[str]:
    """A model retrained on the training set (the path of its directory)."""
    # Imported here: torch and transformers would otherwise load with every EAS process that loads
    # the code location (workers, webserver), for a job that runs once a week.
    from nlp_service.model.bundle import Manifest
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train

    settings = TrainConfig().with_overrides(dict(config.train_overrides))
    out = nlp_models.candidates_dir(context.run.run_id)
    path = train(dataset, out, settings, console=Console(stderr=True, quiet=True))
    manifest = Manifest.load(path)
    return dg.Output(
        str(path),
        metadata={"version": manifest.version, "model_dir": str(path), "encoder": manifest.encoder},
    )


@dg.asset(
    key=EVALUATION,
    group_name=GROUP,
    ins={"dataset": dg.AssetIn(TRAINING_SET), "candidate": dg.AssetIn(CANDIDATE)},
    check_specs=[dg.AssetCheckSpec(CHECK, asset=EVALUATION)],
)
def evaluation(
    config: EvaluationConfig, dataset: Dataset, candidate: str, nlp_models: NlpModelsResource
) -> Any:
    """Candidate vs the serving model on the fixed test split; the verdict on promoting it."""
    from nlp_service.model.bundle import Manifest  # see candidate_model

    current_dir = nlp_models.current_model_dir()
    new, old = score(Path(candidate), dataset), score(current_dir, dataset)
    verdict = not_worse(new, old, config.tolerance)
    result = {
        "candidate_dir": candidate,
        "candidate_version": Manifest.load(Path(candidate)).version,
        "current_dir": str(current_dir),
        "candidate": {m: new.get(m) for m in COMPARED},
        "current": {m: old.get(m) for m in COMPARED},
        "promote": verdict.promote,
        "reasons": list(verdict.reasons),
    }
    table = "| metric | candidate | serving |\n|---|---|---|\n" + "\n".join(
        f"| {m} | {new.get(m, float('nan')):.4f} | {old.get(m, float('nan')):.4f} |"
        for m in COMPARED
        if m in new or m in old
    )
    metadata: dict[str, Any] = {
        f"{who}_{m}": float(scores[m])
        for who, scores in (("candidate", new), ("current", old))
        for m in COMPARED
        if isinstance(scores.get(m), int | float)
    }
    yield dg.Output(
        result,
        metadata={
            **metadata,
            "test_examples": len(dataset.split("test")),
            "promote": verdict.promote,
            "comparison": dg.MetadataValue.md(table),
        },
    )
    yield dg.AssetCheckResult(
        check_name=CHECK,
        asset_key=EVALUATION,
        passed=verdict.promote,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(verdict.reasons),
        metadata={"reasons": dg.MetadataValue.json(list(verdict.reasons))},
    )


@dg.asset(key=PROMOTED, group_name=GROUP, ins={"result": dg.AssetIn(EVALUATION)})
def promoted_model(
    result: dict[str, Any], nlp_models: NlpModelsResource, store: RequestStoreResource
) -> dg.Output[dict[str, Any]]:
    """The candidate, served by every NLP replica, when it is not worse; else the serving model."""
    if not result["promote"]:
        kept = {"promoted": False, "model_dir": result["current_dir"], "reasons": result["reasons"]}
        return dg.Output(kept, metadata={"promoted": False, "reasons": "; ".join(result["reasons"])})
    version = result["candidate_version"]
    target = nlp_models.promote(Path(result["candidate_dir"]), version)
    store.get_store().audit(
        None,
        "learning",
        "model.promoted",
        {
            "version": version,
            "model_dir": str(target),
            "replaced": result["current_dir"],
            **result["candidate"],
        },
    )
    promoted = {"promoted": True, "model_dir": str(target), "version": version, "reasons": result["reasons"]}
    return dg.Output(promoted, metadata={"promoted": True, "version": version, "model_dir": str(target)})


LEARNING_ASSETS = [training_set, candidate_model, evaluation, promoted_model]

learning_retrain = dg.define_asset_job("learning_retrain", selection=dg.AssetSelection.groups(GROUP))

learning_retrain_schedule = dg.ScheduleDefinition(
    name="learning_retrain_weekly",
    job=learning_retrain,
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
