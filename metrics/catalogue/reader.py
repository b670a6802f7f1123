"""Walking raw YAML with a list of errors: every problem is collected with its key path and a hint, so a
person fixing config.yaml sees all of them in one go. Unknown keys are errors (a typo never silently falls
back to a default)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from metrics.catalogue import sqlexpr
from metrics.sql import is_identifier

AGGS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "quantile")
TYPES = ("simple", "ratio", "observed", "misses")  # a metric: one aggregation, a quotient, kpi_observations, a ratio's misses
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
FORMATS = ("percent", "number", "duration", "currency", "score")
LEVELS = ("directorate", "department", "team")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESERVED_PARAMS = ("period_end",)
AUTH_MODES = ("demo", "password", "oidc")
ENGINES = ("duckdb", "spark")


def csv_file(path: Path, error: type[Exception]) -> tuple[list[str], csv.DictReader]:
    """A CSV file people wrote (departments, targets): its header, stripped, and a reader over its rows; `error` with
    one sentence when it cannot be read as UTF-8 text."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot be read as UTF-8 text ({type(e).__name__}); save it as a CSV in UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    return [(h or "").strip() for h in (reader.fieldnames or [])], reader


class Reader:
    """Walks the raw YAML, collecting errors with their key paths."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping with keys {', '.join(allowed)}")
            return {}
        for key in value:
            if key not in allowed:
                self.error(f"{path}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.error(f"{path}.{key}", "required key is missing")
        return value

    def entries(self, value: Any, path: str, expected: str) -> dict:
        """A non-empty mapping written by the organisation (its own keys); {} with an error naming `expected`
        (e.g. "a mapping of metric → words, e.g. {...}") when it is something else."""
        if not isinstance(value, dict) or not value:
            self.error(path, f"expected {expected}")
            return {}
        return value

    def text(self, value: Any, path: str, default: str | None = None, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.error(path, "required text is missing")
            return default
        if not isinstance(value, str) or not value.strip():
            self.error(path, f"expected non-empty text, got {value!r}")
            return default
        return value.strip()

    def number(self, value: Any, path: str, default: float | None = None) -> float | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"expected a number, got {value!r}")
            return default
        return float(value)

    def choice(self, value: Any, path: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        if value is None:
            if default is None:
                self.error(path, f"required; one of {', '.join(choices)}")
            return default
        if value not in choices:
            self.error(path, f"{value!r} is not one of {', '.join(choices)}")
            return default
        return value

    def expression(self, value: Any, path: str) -> str | None:
        """Text that must be one SQL expression over a row (see metrics.catalogue.sqlexpr); {name} is a parameter."""
        text = self.text(value, path)
        if text is not None:
            try:
                sqlexpr.check(text, path, windows=True, placeholders=True)
            except sqlexpr.ExpressionError as exc:
                self.error(path, exc.reason)
                return None
        return text

    def whole(self, value: Any, path: str, default: int, least: int = 1) -> int:
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            self.error(path, f"expected a whole number, {least} or more, got {value!r}")
            return default
        return value

    def identifier(self, value: Any, path: str) -> str | None:
        text = self.text(value, path)
        if text is not None and not is_identifier(text):
            self.error(path, f"{text!r} is not a plain column or table name (letters, digits, _)")
            return None
        return text


