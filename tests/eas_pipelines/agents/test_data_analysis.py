"""The data analysis agent: its rules (periods, which report, pandas computations, charts), the
monthly report assets, and its two workflows end to end against the emulators.

SAP supplier invoices are posted through the connector with posting dates in 2025 and ServiceNow
incidents are stored with creation times in 2025, each test in a month or quarter of its own: the
emulators live for the whole session and other tests add records dated today, which these past
periods never contain. The reports are read back where a person would find them: the Slack
channel, the requester's mailbox, the S3 bucket, and the asset's materialisations on the Dagster
instance.
"""

from __future__ import annotations

import io
import pickle
import ssl
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import httpx
import pandas as pd
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.data_analysis import data_analysis_kpi, data_analysis_report
from eas_pipelines.agents.data_analysis.asked import channel_name, period_of, recipients_of
from eas_pipelines.agents.data_analysis.assets import REPORT_ASSETS, asset_key, monthly_reports_schedule
from eas_pipelines.agents.data_analysis.periods import Period
from eas_pipelines.agents.data_analysis.render import chart_png, markdown_table, render
from eas_pipelines.agents.data_analysis.reports import (
    REPORTS,
    ReportTable,
    change,
    kpi_for,
    report_for,
    request_volume,
    ticket_volume,
    vendor_spend,
)
from eas_pipelines.connectors.sap import SapClient
from eas_pipelines.definitions import defs
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow, today
from tests.eas_pipelines.notifications_support import received
from tests.support.vendor_clients import reader, s3_resource

REPORT = "data_analysis.report_request"
KPI = "data_analysis.kpi_query"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SN_TIME = "%Y-%m-%d %H:%M:%S"


def item(text: str, entities=(), client: str = "c") -> WorkItem:
    return WorkItem("r", "data_analysis", REPORT, text, client, 2, tuple(entities), 1, "run")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# ------------------------------------------------------------------------------------------- rules


def test_period_label_months_and_previous():
    q3 = Period(date(2025, 7, 1), date(2025, 9, 30))
    assert q3.label == "Q3 2025" and q3.partition_key is None
    assert [m.partition_key for m in q3.months()] == ["2025-07-01", "2025-08-01", "2025-09-01"]
    assert q3.previous() == Period(date(2025, 4, 1), date(2025, 6, 30))
    feb = Period.month_of(date(2024, 2, 10))
    assert (feb.end, feb.label, feb.previous()) == (
        date(2024, 2, 29),
        "2024-02",
        Period.month_of(date(2024, 1, 1)),
    )
    week = Period(date(2025, 7, 14), date(2025, 7, 20))
    assert week.months() == [] and week.label == "2025-07-14 to 2025-07-20"
    assert Period(date(2025, 6, 15), date(2025, 8, 3)).months() == [Period.month_of(date(2025, 7, 1))]
    assert Period.previous_month(date(2026, 1, 5)) == Period(date(2025, 12, 1), date(2025, 12, 31))


def test_the_report_is_read_from_the_entities_before_the_text():
    assert report_for(["vendor spend report"], "send it to #support").key == "vendor_spend"
    assert report_for(["ticket volume report"], "").key == "ticket_volume"
    assert report_for([], "how many requests did EAS handle").key == "request_volume"
    assert report_for(["revenue forecast"], "revenue forecast covering invoices") is None  # named, not ours
    assert report_for([], "the weekly sales report") is None
    assert kpi_for(["mean time to resolve"], "").key == "mean_hours_to_resolve"
    assert kpi_for([], "what's the ticket backlog").key == "backlog"
    assert kpi_for(["churn"], "") is None
    for other in ("AP aging report", "SLA compliance report", "expense summary", "weekly sales report"):
        assert report_for([other], "") is None, other
    assert report_for([], "I have a request: the weekly sales report for the support team") is None


def test_recipients_and_period_of_a_request():
    assert channel_name("the finance channel") == "#finance" and channel_name("#Data-Team") == "#data-team"
    text = "send the vendor spend report to #finance and dana@example.com"
    found = item(text, [entity(text, "channel", "#finance"), entity(text, "email", "dana@example.com")])
    assert recipients_of(found) == ["#finance", "dana@example.com"]
    assert recipients_of(item("run the ticket volume report")) == []
    reference = date(2026, 12, 6)
    default = Period.previous_month(reference)
    assert period_of(item("x"), default, reference).period == default
    future = {"type": "period", "text": "Q3 2027", "value": {"start": "2027-07-01", "end": "2027-09-30"}}
    assert "has not started" in period_of(item("x", [future]), default, reference).problem
    unreadable = {"type": "period", "text": "the busy season", "value": None}
    assert (
        "'the busy season' could not be read"
        in period_of(item("x", [unreadable]), default, reference).problem
    )


def test_vendor_spend_groups_by_supplier_and_currency():
    invoices = pd.DataFrame(
        {
            "invoice_number": ["1", "2", "3", "4"],
            "supplier_id": ["A", "A", "G", "G"],
            "supplier": ["Acme Corp", "Acme Corp", "Globex", "Globex"],
            "currency": ["EUR", "EUR", "EUR", "USD"],
            "amount": [100.0, 250.5, 90.0, 40.0],
            "posting_date": [utc("2025-07-01")] * 4,
        }
    )
    table = vendor_spend(invoices)
    assert table.rows == (
        ("Acme Corp", "EUR", 2, 350.5),
        ("Globex", "EUR", 1, 90.0),
        ("Globex", "USD", 1, 40.0),
    )
    assert table.kpis == {"invoices": 4, "suppliers": 2, "spend_EUR": 440.5, "spend_USD": 40.0}
    assert table.chart == {"Acme Corp (EUR)": 350.5, "Globex (EUR)": 90.0, "Globex (USD)": 40.0}
    empty = vendor_spend(invoices.iloc[0:0])
    assert (empty.rows, empty.kpis) == ((), {"invoices": 0, "suppliers": 0})


def test_ticket_volume_counts_backlog_and_time_to_resolve():
    incidents = pd.DataFrame(
        {
            "number": ["INC1", "INC2", "INC3", "INC4"],
            "state": ["6", "7", "2", "8"],
            "assignment_group": ["support-access", "support-access", "", "support-access"],
            "opened_at": [
                utc("2025-05-01 08:00"),
                utc("2025-05-02 08:00"),
                utc("2025-05-03"),
                utc("2025-05-04"),
            ],
            "resolved_at": [utc("2025-05-01 12:00"), utc("2025-05-02 16:00"), pd.NaT, pd.NaT],
        }
    )
    table = ticket_volume(incidents)
    assert table.rows == (("support-access", 3, 2, 0, 6.0), ("(unassigned)", 1, 0, 1, None))
    assert table.kpis == {"opened": 4, "resolved": 2, "backlog": 1, "mean_hours_to_resolve": 6.0}


def test_request_volume_by_agent():
    requests = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "agent": ["finance", "finance", "hr", None],
            "intent": ["x"] * 4,
            "status": ["succeeded", "failed", "running", "needs_review"],
            "created_at": [utc("2025-05-01 08:00")] * 4,
            "finished_at": [utc("2025-05-01 08:00:30"), utc("2025-05-01 08:01:00"), pd.NaT, pd.NaT],
        }
    )
    table = request_volume(requests)
    assert table.columns[:5] == ("agent", "requests", "succeeded", "failed", "in_progress")
    assert table.rows[0] == ("finance", 2, 1, 1, 0, 0.5, 45.0)
    assert {row[0] for row in table.rows} == {"finance", "hr", "(unrouted)"}
    assert table.kpis == {"requests": 4, "succeeded": 1, "failed": 1, "success_rate": 0.5}


def test_chart_markdown_and_change():
    table = vendor_spend(pd.DataFrame(columns=["invoice_number", "supplier", "currency", "amount"]))
    assert chart_png(table, "empty").startswith(PNG_SIGNATURE)
    assert markdown_table(table) == "_no records in this period_"
    assert change(12, 8) == "+50.0% vs the previous period (8)"
    assert change(0, 0) == "" and change(5, None) == ""


BAR_BLUE, WHITE = (0x2F, 0x6D, 0xB5), (255, 255, 255)


def near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    """Within the palette PNG's rounding of ``colour``."""
    return all(abs(a - b) <= 3 for a, b in zip(pixel, colour, strict=False))


def bars_in(png: bytes) -> tuple[int, int]:
    """(bars, first column with a bar) of a chart: runs of bar colour down the bars' first column."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    left = next(x for x in range(width) if any(near(pixels[x, y], BAR_BLUE) for y in range(height)))
    column = [near(pixels[left + 2, y], BAR_BLUE) for y in range(height)]
    return sum(1 for y in range(height) if column[y] and (y == 0 or not column[y - 1])), left


def test_chart_shows_every_bar_and_every_label_inside_the_image():
    from PIL import Image

    long_name = "Internationale Lieferanten- und Logistikgesellschaft mbH & Co. KG"
    chart = {long_name + " Nord": 12.0, long_name + " Sued": 7.0, "Acme": 3.0}
    png = chart_png(ReportTable(("supplier",), (), {}, chart, "spend"), "Vendor spend, 2025-07")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    bars, left = bars_in(png)
    assert bars == 3  # the two names shortened alike are still two bars
    assert 150 < left < 450  # the axes start after the (shortened) labels, not at a fixed place
    assert all(near(image.getpixel((0, y)), WHITE) for y in range(image.height))  # no label cut at the edge
    short = chart_png(ReportTable(("supplier",), (), {}, {"A": 1.0, "B": 2.0}, "spend"), "x")
    assert bars_in(short)[1] < left  # short labels, narrower margin


def test_a_report_draws_its_chart_once_and_only_when_asked():
    table = ReportTable(("supplier", "spend"), (("Acme", 3.0),), {"suppliers": 1}, {"Acme": 3.0}, "spend")
    rendered = render(REPORTS["vendor_spend"], Period.month_of(date(2025, 7, 1)), table)
    assert "png" not in vars(rendered)  # nothing drawn yet
    png = rendered.png
    assert png.startswith(PNG_SIGNATURE) and rendered.png is png
    carried = pickle.loads(pickle.dumps(rendered))  # as an op hands it to the next one
    assert vars(carried)["png"] == png


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def s3(sandbox_session, reading: dict):
    with reader(s3_resource(sandbox_session.env, **reading)) as client:
        yield client


def post_invoice(sap: SapClient, supplier: str, amount: str, currency: str, posted: date) -> None:
    key = uuid.uuid4().hex
    sap.post_supplier_invoice(
        supplier, f"REF-{key[:10]}", Decimal(amount), currency, None, posted, key, posting_date=posted
    )


def put_incident(sandbox_session, opened: datetime, state: str, group: str, resolved: datetime | None = None):
    sys_id = uuid.uuid4().hex
    record = {
        "sys_id": sys_id,
        "number": f"INC9{uuid.uuid4().int % 10**6:06d}",
        "short_description": "seeded for the data analysis tests",
        "state": state,
        "assignment_group": group,
        "sys_created_on": opened.strftime(SN_TIME),
        "resolved_at": resolved.strftime(SN_TIME) if resolved else "",
    }
    sandbox_session.sandbox.records.put("servicenow", "incident", sys_id, record)


def materializations(instance: dg.DagsterInstance, report: str) -> list[dg.AssetMaterialization]:
    records = instance.fetch_materializations(asset_key(report), limit=100).records
    return [record.asset_materialization for record in records]


# ------------------------------------------------------------------------------------- end to end


def test_quarterly_vendor_spend_report_is_stored_recorded_and_sent_to_the_channel(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, sap, s3
):
    post_invoice(sap, "Acme Corp", "1200.00", "EUR", date(2025, 7, 10))
    post_invoice(sap, "Acme Corp", "800.50", "EUR", date(2025, 9, 30))
    post_invoice(sap, "Globex", "450.00", "EUR", date(2025, 8, 2))
    post_invoice(sap, "Globex", "999.00", "EUR", date(2025, 10, 1))  # Q4: not in the report
    text = "Send the Q3 2025 vendor spend report to #finance"
    entities = [
        entity(text, "period", "Q3 2025"),
        entity(text, "report_name", "vendor spend report"),
        entity(text, "channel", "#finance"),
    ]
    record = queued_request(store, text, REPORT, entities)

    result = run_workflow(data_analysis_report, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (message,) = received(sandbox_session, redis_url, "#finance", request_id=record.id)
    assert "Report: Vendor spend, Q3 2025" in message.text
    assert "invoices 3, suppliers 2, spend_EUR 2,450.50" in message.text
    assert "Acme Corp | EUR | 2 | 2,000.50" in message.text and "Globex | EUR | 1 | 450.00" in message.text
    stem = f"reports/vendor_spend/2025-07-01_2025-09-30/{record.id}"
    assert f"s3://eas-reports/{stem}.png" in message.text
    png = s3.get("eas-reports", f"{stem}.png")
    assert png.startswith(PNG_SIGNATURE)
    (link,) = [
        line for line in message.text.splitlines() if line.startswith("http") and f"{stem}.png" in line
    ]
    assert httpx.get(link, verify=ssl.create_default_context(cafile=sandbox_session.ca_bundle)).content == png
    csv = pd.read_csv(io.BytesIO(s3.get("eas-reports", f"{stem}.csv")))
    assert csv.to_dict("records") == [
        {"supplier": "Acme Corp", "currency": "EUR", "invoices": 2, "gross_amount": 2000.5},
        {"supplier": "Globex", "currency": "EUR", "invoices": 1, "gross_amount": 450.0},
    ]
    recorded = {m.partition: m for m in materializations(dagster_instance, "vendor_spend")}
    assert {"2025-07-01", "2025-08-01", "2025-09-01"} <= set(recorded)
    july = recorded["2025-07-01"].metadata
    assert july["kpi/spend_EUR"].value == 1200.0 and july["request_id"].value == record.id
    assert "data:image/png;base64," in july["report"].value
    steps = [e.action for e in store.audit_trail(record.id) if e.actor == "data_analysis"]
    for step in (
        "report.planned",
        "report.computed",
        "report.materialized",
        "report.stored",
        "report.delivered",
        "workflow.completed",
    ):
        assert step in steps


def test_request_volume_report_goes_to_the_requester_by_default(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    queued_request(store, "open a ticket: billing portal down", "customer_service.ticket_create", [])
    start, end = today() - timedelta(days=1), today() + timedelta(days=1)
    text = "run the EAS request volume report for this week"
    period = entity(text, "period", "this week", {"start": start.isoformat(), "end": end.isoformat()})
    client = f"analyst-{uuid.uuid4().hex[:8]}"
    record = queued_request(store, text, REPORT, [period], client_id=client)

    assert run_workflow(data_analysis_report, record.id, dagster_instance, eas_resources, store).success

    (mail,) = received(sandbox_session, redis_url, client, request_id=record.id)
    assert "EAS request volume" in mail.text and "requests 2" in mail.text  # this request and the ticket
    assert "customer_service | 1" in mail.text and "data_analysis | 1" in mail.text
    # No whole month in the period: recorded once, unpartitioned, with its dates.
    latest = [
        m
        for m in materializations(dagster_instance, "request_volume")
        if m.metadata["request_id"].value == record.id
    ]
    assert [m.partition for m in latest] == [None]
    assert latest[0].metadata["period_start"].value == start.isoformat()


def test_kpi_question_is_answered_with_the_change_from_the_period_before(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    put_incident(sandbox_session, datetime(2025, 4, 2, 8), "6", "support-access", datetime(2025, 4, 2, 10))
    put_incident(sandbox_session, datetime(2025, 4, 9, 8), "7", "support-tier2", datetime(2025, 4, 9, 14))
    put_incident(sandbox_session, datetime(2025, 3, 9, 8), "6", "support-access", datetime(2025, 3, 9, 12))
    text = "what was our mean time to resolve for April 2025?"
    entities = [
        entity(text, "metric", "mean time to resolve"),
        entity(text, "period", "April 2025", {"start": "2025-04-01", "end": "2025-04-30"}),
    ]
    client = f"lead-{uuid.uuid4().hex[:8]}"
    record = queued_request(store, text, KPI, entities, client_id=client)

    assert run_workflow(data_analysis_kpi, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    (mail,) = received(sandbox_session, redis_url, client, request_id=record.id)
    assert "Mean time to resolve for 2025-04: 4 hours (unchanged from the previous period)" in mail.text
    steps = [e.action for e in store.audit_trail(record.id) if e.actor == "data_analysis"]
    assert {"kpi.planned", "kpi.computed", "kpi.answered", "workflow.completed"} <= set(steps)


def test_monthly_asset_partition_shows_chart_and_table(eas_resources, dagster_instance, sandbox_session):
    put_incident(sandbox_session, datetime(2025, 5, 3, 9), "6", "support-access", datetime(2025, 5, 3, 12))
    put_incident(sandbox_session, datetime(2025, 5, 20, 9), "2", "support-technical")
    put_incident(sandbox_session, datetime(2025, 6, 1, 0, 0, 1), "2", "support-technical")  # June
    ticket_asset = next(a for a in REPORT_ASSETS if a.key == asset_key("ticket_volume"))

    result = dg.materialize(
        [ticket_asset], partition_key="2025-05-01", resources=eas_resources, instance=dagster_instance
    )

    assert result.success
    (event,) = result.asset_materializations_for_node(ticket_asset.node_def.name)
    meta = event.metadata
    assert (meta["kpi/opened"].value, meta["kpi/backlog"].value, meta["kpi/mean_hours_to_resolve"].value) == (
        2,
        1,
        3.0,
    )
    rows = [record.data for record in meta["table"].value.records]
    assert rows == [
        {
            "assignment_group": "support-access",
            "opened": 1,
            "resolved": 1,
            "open": 0,
            "mean_hours_to_resolve": 3.0,
        },
        {
            "assignment_group": "support-technical",
            "opened": 1,
            "resolved": 0,
            "open": 1,
            "mean_hours_to_resolve": None,
        },
    ]
    assert "![Ticket volume, 2025-05](data:image/png;base64," in meta["report"].value


def test_the_schedule_materialises_last_month_on_the_first():
    schedule = defs.resolve_schedule_def(monthly_reports_schedule.name)
    assert (schedule.cron_schedule, schedule.default_status) == (
        "0 6 1 * *",
        dg.DefaultScheduleStatus.RUNNING,
    )
    with dg.build_schedule_context(scheduled_execution_time=datetime(2025, 6, 1, 6, tzinfo=UTC)) as context:
        (run,) = schedule.evaluate_tick(context).run_requests
    assert (run.partition_key, run.job_name) == ("2025-05-01", "data_analysis_monthly_reports")
    job = defs.resolve_job_def(run.job_name)
    assert {key for key in job.asset_layer.executable_asset_keys} == {asset_key(key) for key in REPORTS}


def test_a_report_eas_has_no_data_for_is_refused_with_what_there_is(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    text = "Send the Q3 revenue report to #finance"
    entities = [
        entity(text, "period", "Q3"),
        entity(text, "report_name", "revenue report"),
        entity(text, "channel", "#finance"),
    ]
    client = f"cfo-{uuid.uuid4().hex[:8]}"
    record = queued_request(store, text, REPORT, entities, client_id=client)

    assert run_workflow(data_analysis_report, record.id, dagster_instance, eas_resources, store).success

    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert (
        "there is no report for 'revenue report'" in failed.last_error and "vendor spend" in failed.last_error
    )
    (mail,) = received(sandbox_session, redis_url, client, request_id=record.id)
    assert "could not be completed" in mail.text
    assert received(sandbox_session, redis_url, "#finance", request_id=record.id) == []


def test_servicenow_down_fails_the_run_for_the_failure_sensor(
    store, eas_resources, dagster_instance, sandbox
):
    text = "what's the ticket backlog?"
    record = queued_request(store, text, KPI, [entity(text, "metric", "ticket backlog")])
    sandbox.fault("error", "servicenow", rate=1.0, status=503)
    try:
        result = run_workflow(data_analysis_kpi, record.id, dagster_instance, eas_resources, store)
    finally:
        sandbox.reset()

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # left to the failure sensor to retry or fail
    assert "kpi.computed" not in [e.action for e in store.audit_trail(record.id)]


def test_every_report_has_an_asset():
    assert {a.key for a in REPORT_ASSETS} == {asset_key(key) for key in REPORTS}
    assert render(
        REPORTS["vendor_spend"],
        Period.month_of(date(2025, 1, 1)),
        vendor_spend(pd.DataFrame(columns=["invoice_number", "supplier", "currency", "amount"])),
    ).png.startswith(PNG_SIGNATURE)
