"""The logging filter and the structlog processor keep canary PII out of log output."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog

from eas_pipelines.pii import PiiLogFilter, PiiStructlogProcessor, mask_structlog_event

from .test_masking import CARD, EMAIL, IBAN, PHONE, SSN, TEXT, leaked


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(PiiLogFilter())
    logger = logging.getLogger("eas.test.pii")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_message_and_args_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(TEXT)
    logger.info("payment for %s with card %s, iban %s", EMAIL, CARD, IBAN)
    logger.warning("request %(id)s from %(who)s", {"id": "INV-1042", "who": PHONE})
    output = stream.getvalue()
    assert leaked(output) == []
    assert "payment for <EMAIL_ADDRESS> with card ****1111, iban <IBAN_CODE>" in output
    assert "request INV-1042 from <PHONE_NUMBER>" in output


def test_args_not_fitting_the_format_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("two %s %s", EMAIL)
    output = stream.getvalue()
    assert "<EMAIL_ADDRESS>" in output and EMAIL not in output


def test_exception_text_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"vendor refused SSN {SSN} for {EMAIL}")
    except ValueError:
        logger.exception("sync failed")
    output = stream.getvalue()
    assert "ValueError: vendor refused SSN <US_SSN> for <EMAIL_ADDRESS>" in output
    assert leaked(output) == []


def test_filter_on_caplog_handler(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(PiiLogFilter(allowed=frozenset({"EMAIL_ADDRESS"})))
    try:
        with caplog.at_level(logging.INFO, logger="eas.test.caplog"):
            logging.getLogger("eas.test.caplog").info("hr mail %s ssn %s", EMAIL, SSN)
    finally:
        caplog.handler.filters.clear()
    assert caplog.messages == [f"hr mail {EMAIL} ssn <US_SSN>"]
    assert SSN not in caplog.text


def test_filter_on_the_root_handler_does_not_recurse() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiLogFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # Presidio's own debug lines reach this handler while masking
    try:
        logging.getLogger("eas.test.root").info("card %s", CARD)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert stream.getvalue() == "card ****1111\n"


def test_structlog_processor_masks_event_and_fields() -> None:
    stream = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream),
        processors=[mask_structlog_event, structlog.processors.JSONRenderer()],
    )
    logger.info(f"paid by {CARD}", requester=EMAIL, details={"ssn": SSN, "amount": 12400})
    output = stream.getvalue()
    assert leaked(output) == []
    assert "****1111" in output and "<EMAIL_ADDRESS>" in output and '"amount": 12400' in output


def test_structlog_processor_with_allowed_types() -> None:
    event = PiiStructlogProcessor(allowed=frozenset({"EMAIL_ADDRESS"}))(
        None, "info", {"event": f"{EMAIL} {SSN}"}
    )
    assert event == {"event": f"{EMAIL} <US_SSN>"}


def test_first_masking_under_debug_logging_neither_hangs_nor_leaks() -> None:
    """Presidio logs while it is imported: with a masking handler on the root at DEBUG, the first
    masking (here: not from a log call) must not wait for the engines its own thread is building."""
    code = (
        "import logging, sys\n"
        "from eas_pipelines.gateway.request_log import configure_logging\n"
        "from eas_pipelines.pii import mask_value\n"
        "configure_logging('DEBUG', sys.stdout)\n"
        f"print(mask_value({{'card': {CARD!r}}}))\n"
        f"logging.getLogger('eas.test').info('ssn %s', {SSN!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "{'card': '****1111'}" in done.stdout and "ssn <US_SSN>" in done.stdout
    assert leaked(done.stdout + done.stderr) == []
