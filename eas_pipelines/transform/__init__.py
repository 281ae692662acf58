"""Data transformation between enterprise systems: normalisation, schema mapping, enrichment, formats.

The lowest layer of ``eas_pipelines``: it imports nothing else from the package, so connectors,
agents and workers can all use it. See each module's docstring for its rules.
"""

from eas_pipelines.transform.enrich import InMemoryVendorMaster, VendorMaster, VendorRecord, enrich
from eas_pipelines.transform.formats import (
    UnsafeXMLError,
    XMLFormatError,
    flatten,
    from_csv,
    from_json,
    from_xml,
    to_csv,
    to_json,
    to_xml,
    unflatten,
)
from eas_pipelines.transform.mapping import (
    CANONICAL,
    FieldError,
    MappingError,
    SystemMapping,
    convert,
    from_canonical,
    register,
    systems,
    to_canonical,
)
from eas_pipelines.transform.models import (
    Invoice,
    InvoiceLine,
    OracleInvoice,
    QuickBooksBill,
    SapSupplierInvoice,
)
from eas_pipelines.transform.normalize import (
    company_key,
    normalize_company_name,
    normalize_currency,
    normalize_person_name,
    normalize_whitespace,
    parse_amount,
    parse_date,
    parse_money,
)
from eas_pipelines.transform.report import TransformReport, transform_batch

__all__ = [
    "CANONICAL",
    "FieldError",
    "InMemoryVendorMaster",
    "Invoice",
    "InvoiceLine",
    "MappingError",
    "OracleInvoice",
    "QuickBooksBill",
    "SapSupplierInvoice",
    "SystemMapping",
    "TransformReport",
    "UnsafeXMLError",
    "VendorMaster",
    "VendorRecord",
    "XMLFormatError",
    "company_key",
    "convert",
    "enrich",
    "flatten",
    "from_canonical",
    "from_csv",
    "from_json",
    "from_xml",
    "normalize_company_name",
    "normalize_currency",
    "normalize_person_name",
    "normalize_whitespace",
    "parse_amount",
    "parse_date",
    "parse_money",
    "register",
    "systems",
    "to_canonical",
    "to_csv",
    "to_json",
    "to_xml",
    "transform_batch",
    "unflatten",
]
