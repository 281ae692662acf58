"""One error type for every malformed data file, so the CLI can print it without a traceback."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A data file does not have the shape its format requires.

    The message always names the file and, where one is to blame, the 1-based line,
    because the person fixing it opens that file at that line.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")
