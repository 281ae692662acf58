"""The audit log's integrity as a Dagster asset with an asset check.

``audit_log_chain`` is the verified state of the hash chain (:mod:`eas_pipelines.store.chain`): each
materialisation walks the chain and records its head (``head_seq``, ``head_hash``) and what it
found. ``audit_log_chain_intact`` (a blocking asset check of it) fails, naming the first broken
row, when

- a row no longer matches its hash, a row is missing, or a row's ``prev_hash`` is not its
  predecessor's hash; or
- the head an earlier materialisation recorded is gone or has another hash now: the whole chain
  was recomputed after a change (which a walk alone cannot see, since it would be consistent).

The asset does not fail on a break: the break is the check's finding, and the materialisation
still records how far the chain goes. ``audit_chain_schedule`` runs both every hour.
"""

from typing import Any

import dagster as dg
from sqlalchemy import text

from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.store import ChainReport, RequestStore

ASSET_KEY = dg.AssetKey("audit_log_chain")


def _report_metadata(report: ChainReport) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "checked": report.checked,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "breaks": report.breaks,
    }
    if report.first_break is not None:
        brk = report.first_break
        metadata.update(
            first_break_seq=brk.seq,
            first_break_entry_id=brk.entry_id,
            first_break_request_id=brk.request_id or "",
            first_break_action=brk.action,
            first_break_problem=brk.problem,
        )
    return metadata


@dg.asset(
    key=ASSET_KEY,
    group_name="governance",
    description="The audit log's hash chain, verified from its first row to its head.",
)
def audit_log_chain(context: dg.AssetExecutionContext, store: RequestStoreResource) -> dg.MaterializeResult:
    # The head the previous materialisation saw becomes this one's anchor, for the check to hold it to.
    anchor = _recorded(context.instance, "head")
    report = store.get_store().verify_audit_chain()
    if not report.intact:
        context.log.error(f"audit log chain broken: {report.first_break}")
    metadata = _report_metadata(report)
    if anchor is not None:
        metadata.update(anchor_seq=anchor[0], anchor_hash=anchor[1])
    return dg.MaterializeResult(metadata=metadata)


def _recorded(instance: dg.DagsterInstance, prefix: str) -> tuple[int, str] | None:
    """(seq, hash) the latest materialisation recorded under ``<prefix>_seq``/``<prefix>_hash``."""
    event = instance.get_latest_materialization_event(ASSET_KEY)
    if event is None or event.asset_materialization is None:
        return None
    metadata = event.asset_materialization.metadata
    seq, digest = metadata.get(f"{prefix}_seq"), metadata.get(f"{prefix}_hash")
    if seq is None or digest is None or not seq.value:
        return None
    return int(seq.value), str(digest.value)


def anchor_problem(store: RequestStore, head: tuple[int, str]) -> str | None:
    """Why an earlier recorded head no longer holds, or None if the row is there with that hash."""
    seq, digest = head
    with store.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT hash FROM audit_log WHERE seq = :seq"), {"seq": seq}
        ).scalar()
    if stored is None:
        return f"row seq {seq}, the head recorded earlier, is gone"
    if stored != digest:
        return (
            f"row seq {seq} has hash {stored[:12]}..., not the {digest[:12]}... recorded earlier: "
            "the chain was rewritten"
        )
    return None


def check_chain(store: RequestStore, previous_head: tuple[int, str] | None) -> dg.AssetCheckResult:
    """The check's verdict: the walk, then the head an earlier materialisation saw as an anchor."""
    report = store.verify_audit_chain()
    metadata = _report_metadata(report)
    problems = []
    if report.first_break is not None:
        brk = report.first_break
        problems.append(
            f"{report.breaks} broken row(s); first at seq {brk.seq} (entry {brk.entry_id}, "
            f"{brk.action}, request {brk.request_id or '-'}): {brk.problem}"
        )
    if previous_head is not None:
        anchor = anchor_problem(store, previous_head)
        if anchor is not None:
            problems.append(anchor)
            metadata["anchor_problem"] = anchor
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems)
        if problems
        else f"intact: {report.checked} row(s) to seq {report.head_seq}",
        metadata=metadata,
    )


@dg.asset_check(
    asset=audit_log_chain,
    name="audit_log_chain_intact",
    blocking=True,
    description="Fails, naming the first broken row, when the audit log's hash chain is broken.",
)
def audit_log_chain_intact(
    context: dg.AssetCheckExecutionContext, store: RequestStoreResource
) -> dg.AssetCheckResult:
    return check_chain(store.get_store(), _recorded(context.instance, "anchor"))


audit_chain_job = dg.define_asset_job(
    "audit_chain_verification", selection=dg.AssetSelection.assets(audit_log_chain)
)

audit_chain_schedule = dg.ScheduleDefinition(
    name="audit_chain_schedule",
    job=audit_chain_job,
    cron_schedule="17 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: verify the audit log's hash chain.",
)
