"""The CLI's gateway errors read as one line naming the field."""

from eas_pipelines.cli.gateway_client import readable_detail


def test_validation_errors_name_the_field_and_the_reason():
    detail = [
        {"loc": ["path", "request_id"], "msg": "String should match pattern '^[0-9a-f-]{36}$'", "type": "x"},
        {"loc": ["query", "include"], "msg": "bad include", "type": "y"},
    ]
    assert readable_detail(detail) == (
        "request_id: String should match pattern '^[0-9a-f-]{36}$'; include: bad include"
    )


def test_a_plain_message_is_kept():
    assert readable_detail("request 42 not found") == "request 42 not found"
