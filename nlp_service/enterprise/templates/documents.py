"""Templates for the documents agent: extracting data from and generating documents."""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "documents.extract": (
        "extract the (total|line items|due date) from (this|the attached) {document_type}",
        "pull the (totals|amounts|dates) out of {invoice_id}",
        "read the {document_type} from {vendor} and (get|extract) the (total|amount|payment terms)",
        "OCR (this|the attached|the uploaded) {document_type}",
        "(get|grab) the (signature date|parties|renewal date) from the {vendor} {document_type}",
        "parse the {document_type} (I|we) (just|) uploaded",
        "what's the (total|invoice number|due date) on the attached {document_type}",
        "extract (fields|data) from the {document_type} dated {date:on}",
        "scan the {document_type} and pull out the (key terms|vendor details|amounts)",
        "(capture|digitize) the {document_type} from {vendor}",
        "extract (all|the) tables from the {document_type}",
        "get the (salary|start date|job title) from the {document_type} for {employee}",
        "document extraction: {document_type}, {vendor}",
        "pull the bank details from the {vendor} {document_type}",
        "read {invoice_id} and tell me the (amount|due date|vendor)",
        "turn the scanned {document_type} into structured fields",
    ),
    "documents.generate": (
        "generate {a} {document_type} for {employee}",
        "(draft|create|prepare) {a} {document_type} for {vendor}",
        "make {a} {document_type} (dated {date:on}|)",
        "I need {a} {document_type} for the new {role:job}",
        "write up {a} {document_type} for {employee} (starting {date}|)",
        "produce {a} {document_type} for {amount} to {vendor}",
        "generate the {document_type} template for {department}",
        "draft {a} {document_type:vendor} between us and {vendor}",
        "(can you|could you|) put together {a} {document_type} (for {employee}|)",
        "fill out {a} {document_type} for {employee}",
        "new {document_type} for {vendor} please",
        "create a PDF {document_type} for {vendor} (worth|totalling) {amount}",
        "issue {a} {document_type} to {employee}",
        "document request: {document_type} for {employee}",
        "render {a} {document_type} from the (standard|default) template",
        "mail merge {a} {document_type} for everyone in {department}",
    ),
}
