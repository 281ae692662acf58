"""Conversion between JSON, XML and CSV for records crossing system boundaries.

Why these rules:

* XML from outside is untrusted: it is parsed with ``defusedxml`` only, with DTDs, entities and
  external references all refused (:class:`UnsafeXMLError`), so an entity-expansion ("billion
  laughs") or XXE payload never expands. :func:`to_xml` marks types (``type="int"``, ``"list"``,
  ...) so EAS's own XML round-trips exactly; XML without the marks reads as strings, dicts, and
  lists where a tag repeats.
* CSV is tabular: nested records are flattened to dotted columns (``VendorRef.value``,
  ``Line.0.Amount``: a numeric segment is a list index) and restored by :func:`from_csv`. CSV has
  no types and no "absent": every value comes back a string and an empty cell means the key was
  absent (mapping models coerce strings; see :mod:`eas_pipelines.transform.models`).
* JSON keeps amounts exact: :func:`from_json` reads non-integral numbers as ``Decimal``,
  :func:`to_json` writes ``Decimal`` as numbers and dates as ISO strings.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building XML only; parsing goes through defusedxml
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring


class UnsafeXMLError(ValueError):
    """XML refused because it declares a DTD, entities or external references."""


class XMLFormatError(ValueError):
    """XML that is not well formed or not in a shape :func:`from_xml` reads."""


# --- JSON ----------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False)


def from_json(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


# --- XML -----------------------------------------------------------------------------------------------

_XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
ITEM = "item"


def to_xml(data: Any, root: str = "record") -> str:
    """A JSON-like value as XML text under ``<root>``, with type marks so :func:`from_xml` restores it."""
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="unicode")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        if not value:
            element.set("type", "dict")
        for key, child in value.items():
            if not isinstance(key, str) or not _XML_NAME.match(key) or key.lower().startswith("xml"):
                raise XMLFormatError(f"key {key!r} is not a usable XML element name")
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        element.set("type", "list")
        for child in value:
            _fill(ET.SubElement(element, ITEM), child)
    elif value is None:
        element.set("type", "null")
    elif isinstance(value, bool):
        element.set("type", "bool")
        element.text = "true" if value else "false"
    elif isinstance(value, int):
        element.set("type", "int")
        element.text = str(value)
    elif isinstance(value, float):
        element.set("type", "float")
        element.text = repr(value)
    elif isinstance(value, Decimal):
        element.set("type", "decimal")
        element.text = str(value)
    elif isinstance(value, datetime | date):
        element.text = value.isoformat()
    else:
        element.text = str(value)


def from_xml(text: str | bytes) -> Any:
    """XML text -> the value under its root element; untrusted input is safe (module docstring)."""
    try:
        root = safe_fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnsafeXMLError(
            f"XML refused: DTDs, entities and external references are not allowed ({error})"
        ) from None
    except ET.ParseError as error:
        raise XMLFormatError(f"XML is not well formed: {error}") from None
    return _read(root)


def _read(element: ET.Element) -> Any:
    kind = element.get("type")
    children = list(element)
    if kind == "list":
        return [_read(child) for child in children]
    if kind == "null":
        return None
    if kind == "dict" and not children:
        return {}
    text = element.text or ""
    try:
        if kind == "bool":
            return {"true": True, "false": False}[text]
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "decimal":
            return Decimal(text)
    except (KeyError, ValueError, ArithmeticError):
        raise XMLFormatError(f"<{element.tag}> is marked {kind} but holds {text!r}") from None
    if not children:
        return text
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in children:
        value = _read(child)
        if child.tag not in result:
            result[child.tag] = value
        elif child.tag in repeated:
            result[child.tag].append(value)
        else:  # foreign XML: a repeated tag is a list
            result[child.tag] = [result[child.tag], value]
            repeated.add(child.tag)
    return result


# --- CSV -----------------------------------------------------------------------------------------------


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "l": [{"x": 2}]}`` -> ``{"a.b": 1, "l.0.x": 2}``."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if "." in str(key):
            raise ValueError(f"key {key!r} contains '.', the column separator")
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{path}."))
        elif isinstance(value, list | tuple):
            flat.update(flatten({str(i): item for i, item in enumerate(value)}, f"{path}."))
        else:
            flat[path] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`: numeric path segments become list indexes."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(tree)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(converted, key=int)
        if [int(i) for i in indexes] == list(range(len(indexes))):
            return [converted[i] for i in indexes]
    return converted


def to_csv(records: Iterable[Mapping[str, Any]]) -> str:
    """Records (flat or nested) as CSV text with dotted column names, columns in first-seen order."""
    frame = pd.DataFrame([flatten(record) for record in records])
    return frame.to_csv(index=False)


def from_csv(text: str) -> list[dict[str, Any]]:
    """CSV text -> records, nested again from dotted columns; all values strings, empty cells absent."""
    if not text.strip():
        return []
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    return [unflatten({k: v for k, v in row.items() if v != ""}) for row in frame.to_dict(orient="records")]
