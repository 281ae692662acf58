"""The access review in Dagster: the ``security_accounts`` asset with its checks, its daily schedule,
and the on-request job ``security_compliance_check`` (rules: :mod:`.compliance`)."""

from __future__ import annotations

from functools import partial

import dagster as dg

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.security.accounts import AccountSystems
from eas_pipelines.agents.security.compliance import (
    RULES,
    Account,
    approved,
    collect_accounts,
    directory_emails,
    findings_text,
    review,
)
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.runs import now_utc

COMPLIANCE_JOB = "security_compliance_check"
SECURITY_CHANNEL = "#security"
CHECK_DESCRIPTIONS = {
    "no_owner": "Active accounts whose e-mail is nobody in the HR directory.",
    "stale_access": "Active accounts unused for 90 days or more.",
    "missing_approval": "Active accounts on sensitive systems without an approved EAS request.",
}


def run_review(
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    bamboohr: BambooHRResource,
    store: RequestStoreResource,
) -> tuple[list[Account], dict[str, list[Account]]]:
    """Every account and the findings of each rule, read from the systems now."""
    accounts = collect_accounts(AccountSystems(salesforce, servicenow, jira, slack_scim))
    owners = directory_emails(bamboohr.client())
    return accounts, review(accounts, owners, partial(approved, store.get_store()), now_utc())


def _table(accounts: list[Account]) -> dg.MetadataValue:
    columns = ["system", "account_id", "email", "active", "last_login", "grant"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(account.row()[c] for c in columns) + " |" for account in accounts[:200]]
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset(
    name="security_accounts",
    group_name="security",
    description="Every account on Salesforce, ServiceNow, Jira and Slack, reviewed by the access rules.",
    check_specs=[
        dg.AssetCheckSpec(rule, asset="security_accounts", description=CHECK_DESCRIPTIONS[rule])
        for rule in RULES
    ],
)
def security_accounts(
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    bamboohr: BambooHRResource,
    store: RequestStoreResource,
) -> dg.MaterializeResult:
    accounts, findings = run_review(salesforce, servicenow, jira, slack_scim, bamboohr, store)
    return dg.MaterializeResult(
        metadata={
            "accounts": len(accounts),
            "active": sum(a.active for a in accounts),
            **{
                f"{system}_accounts": sum(a.system == system for a in accounts)
                for system in ("salesforce", "servicenow", "jira", "slack")
            },
            "accounts_table": _table(accounts),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=rule,
                passed=not findings[rule],
                severity=dg.AssetCheckSeverity.WARN
                if rule == "stale_access"
                else dg.AssetCheckSeverity.ERROR,
                metadata={"count": len(findings[rule]), "accounts": _table(findings[rule])},
            )
            for rule in RULES
        ],
    )


security_accounts_review = dg.define_asset_job("security_accounts_review", selection=[security_accounts])
security_accounts_schedule = dg.ScheduleDefinition(
    job=security_accounts_review, cron_schedule="0 6 * * *", execution_timezone="UTC"
)
"""The access review, every day at 06:00 UTC."""


@workflow_step(WorkResult, optional=False)
def review_access(
    item: WorkItem,
    *,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    bamboohr: BambooHRResource,
    store: RequestStoreResource,
    notifications: NotificationsResource,
) -> Step:
    """Run the review now and send its findings to the requester and #security."""
    accounts, findings = run_review(salesforce, servicenow, jira, slack_scim, bamboohr, store)
    report = findings_text(findings)
    counts = {rule: len(findings[rule]) for rule in RULES}
    for recipient in (item.requester, SECURITY_CHANNEL):
        notifications.send(
            recipient,
            f"Access review: {sum(counts.values())} findings over {len(accounts)} accounts",
            report,
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:review:{recipient}"),
            detail=counts,
        )
    summary = "access review: " + ", ".join(f"{count} {rule}" for rule, count in counts.items())
    return Step.passed(
        WorkResult(item, summary, {"accounts": len(accounts), **counts}),
        "compliance.reviewed",
        accounts=len(accounts),
        **counts,
    )


security_compliance_check = workflow_job(
    name=COMPLIANCE_JOB,
    agent="security",
    description="Review every account now: no owner, stale access, missing approvals; report the findings.",
    steps=(review_access,),
)
