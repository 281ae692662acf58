"""A PDF's text: its text layer through pypdf, and OCR (RapidOCR on ONNX Runtime) of scanned pages.

A page whose text layer is empty (or nearly: a scanner's stamp) is a picture of text; its embedded
images are read by OCR instead. RapidOCR's detection, direction and recognition models ship inside
the ``rapidocr-onnxruntime`` wheel, so nothing is downloaded at run time. Its engine loads those
models once per process (about half a second) and is reused; ONNX Runtime is held to
:data:`OCR_THREADS` threads, as workflows share the machine's few cores with the rest of EAS.

OCR lines come back in reading order (top to bottom, then left to right) joined by newlines, so the
field rules (:mod:`.fields`) see a scanned invoice laid out as its text layer would be.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError

MIN_TEXT_CHARS = 16
"""A page with fewer characters in its text layer than this is OCRed."""

OCR_THREADS = 2
MIN_OCR_SCORE = 0.5
MAX_PAGES = 50
"""Longer documents are refused: a workflow step is not a batch OCR service."""

_engine_lock = threading.Lock()
_engine: Any = None


class NotAPdf(ValueError):
    """The bytes are not a readable PDF (or it is encrypted with a password)."""


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    text: str
    ocr: bool  # read by OCR (a scanned page)


def ocr_engine() -> Any:
    """The process's RapidOCR engine, built on first use (the models load from the wheel)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR  # heavy import: only when a scan is read

            _engine = RapidOCR(intra_op_num_threads=OCR_THREADS, inter_op_num_threads=1)
        return _engine


def ocr_image(image: Image.Image) -> str:
    """The text in ``image``, one line per detected text box, in reading order."""
    result, _ = ocr_engine()(np.array(image.convert("RGB")))
    boxes = [(box, text) for box, text, score in result or () if float(score) >= MIN_OCR_SCORE]
    # Reading order: by line (the box's top edge, bucketed by half a line height), then by x.
    heights = [max(p[1] for p in box) - min(p[1] for p in box) for box, _ in boxes] or [1.0]
    line = max(1.0, sorted(heights)[len(heights) // 2] / 2)
    ordered = sorted(boxes, key=lambda found: (round(min(p[1] for p in found[0]) / line), found[0][0][0]))
    return "\n".join(text for _, text in ordered)


def read_pdf(data: bytes) -> list[PageText]:
    """Every page's text; pages without a text layer are read by OCR of their images."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise NotAPdf("the PDF is password-protected")
        pages = list(reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        if isinstance(exc, NotAPdf):
            raise
        raise NotAPdf(f"not a readable PDF: {exc}") from exc
    if len(pages) > MAX_PAGES:
        raise NotAPdf(f"the PDF has {len(pages)} pages; at most {MAX_PAGES} are read")
    found: list[PageText] = []
    for number, page in enumerate(pages, start=1):
        text = (page.extract_text() or "").strip()
        if len(text) >= MIN_TEXT_CHARS:
            found.append(PageText(number, text, ocr=False))
            continue
        scanned = "\n".join(ocr_image(image.image) for image in page.images if image.image is not None)
        found.append(PageText(number, scanned.strip() or text, ocr=bool(scanned.strip())))
    return found
