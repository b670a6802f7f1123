"""The errors the metrics layer raises on purpose; each carries one clear sentence."""
from __future__ import annotations


class MetricsError(Exception):
    """Bad input from a person: the message says what, where, and what would be accepted."""

    exit_code = 2


class ConfigError(MetricsError):
    """config.yaml is wrong; `errors` lists every problem with its key path."""

    def __init__(self, message: str, errors: list[str] | None = None):
        self.errors = list(errors or [])
        super().__init__(message if not self.errors else message + ":\n" + "\n".join(f"  - {e}" for e in self.errors))


class SchemaError(MetricsError):
    """The database file cannot be used with this version of the code."""


class AccessDenied(MetricsError):
    """The viewer asked for figures they may not see."""


class UnknownError(MetricsError):
    """An unknown metric, department, staff member or goal was named."""
