"""Scopes: whose figures — the organisation, a directorate, department or team, or one person."""
from __future__ import annotations

from dataclasses import dataclass

from metrics.catalogue.definitions import Config
from metrics.errors import MetricsError, UnknownError

KINDS = ("organisation", "directorate", "department", "team", "staff")


@dataclass(frozen=True)
class Scope:
    kind: str                 # one of KINDS
    key: str | None = None    # department key or staff id; None for the organisation

    @property
    def is_unit(self) -> bool:
        """True for a directorate, department or team."""
        return self.kind in ("directorate", "department", "team")

    def __str__(self) -> str:
        return "organisation" if self.kind == "organisation" else f"{self.kind}:{self.key}"


ORGANISATION = Scope("organisation")


def parse_scope(text: str | None, config: Config) -> Scope:
    """Parse 'org', 'department:KEY' (any level), 'directorate:KEY', 'team:KEY' or 'staff:ID'.

    Args:
        text: the scope as written on the command line or in a URL.
        config: for the department keys.
    Returns:
        A Scope whose kind is the department's real level. Staff ids are checked by the engine.
    """
    if text in (None, "", "org", "organisation"):
        return ORGANISATION
    kind, sep, key = text.partition(":")
    if not sep or not key or kind not in KINDS[1:]:
        raise MetricsError(f"scope {text!r} is not understood; write org, department:KEY, directorate:KEY, "
                           "team:KEY or staff:ID")
    if kind == "staff":
        return Scope("staff", key)
    return unit_scope(key, config, kind)


def unit_scope(key: str, config: Config, asked: str = "department") -> Scope:
    """The Scope of a department key at its configured level; UnknownError if there is no such key."""
    dep = config.departments.get(key)
    if dep is None:
        close = [k for k in config.departments if k.startswith(key[:3])] or list(config.departments)[:6]
        raise UnknownError(f"unknown {asked} {key!r} (known keys include: {', '.join(close)})")
    if asked in ("directorate", "team") and dep.level != asked:
        raise MetricsError(f"{key!r} is a {dep.level}, not a {asked}; write {dep.level}:{key} or department:{key}")
    return Scope(dep.level, key)
