"""A new organisation's configuration: its name, calendar and departments from a CSV, on the shipped catalogue.

`python -m metrics init` reads a departments file (key, name, parent, front_line; one row per directorate,
department or team), checks it whole — a duplicate key, a parent that is not in the file, a loop of parents, more
than three levels — and writes a config file: the shipped config.yaml (the metric catalogue, sources, goals) with
the organisation's own `organisation` and `departments`, and every department the catalogue names (a metric's owner,
a department's own target, a goal's departments, the chain's front door, where unrouted feedback goes) replaced by
the organisation's department given for it (`--map contact_centre=customer_services`). A department-specific target
whose department is not mapped is left out (the metric's default applies). The result is validated like any
config.yaml before it is written; with any problem nothing is written.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from metrics.catalogue.reader import LEVELS, csv_file
from metrics.errors import ConfigError

COLUMNS = ("key", "name", "parent", "front_line")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_YES, _NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0", "")


def read_departments(path: str | Path) -> list[dict]:
    """The departments file as config.yaml's nested `departments` list; ConfigError naming the line otherwise."""
    path = Path(path)
    header, reader = csv_file(path, ConfigError)
    header = [h.lower() for h in header]
    if [c for c in COLUMNS if c not in header] or len(set(header)) != len(header):
        raise ConfigError(f"{path}: the header is {', '.join(header) or '(empty)'}; a departments file has the columns "
                          f"{', '.join(COLUMNS)} (parent empty for a top-level unit; front_line yes or no)")
    rows: dict[str, dict] = {}
    lines: dict[str, int] = {}
    for n, raw in enumerate(reader, start=2):
        raw = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"{path}, line {n}"
        key, name, parent, front = raw["key"], raw["name"], raw["parent"] or None, raw["front_line"].lower()
        if not _KEY.match(key):
            raise ConfigError(f"{where}: key {key!r} is not accepted; use lower-case letters, digits and _ , starting "
                              "with a letter (e.g. housing_repairs)")
        if key in rows:
            raise ConfigError(f"{where}: key {key!r} is also on line {lines[key]}; each unit has one row")
        if not name:
            raise ConfigError(f"{where}: {key} has no name; give the name people know it by")
        if front not in _YES + _NO:
            raise ConfigError(f"{where}: front_line {raw['front_line']!r} is not accepted; write yes or no")
        rows[key], lines[key] = {"key": key, "name": name, "parent": parent, "front_line": front in _YES}, n
    if not rows:
        raise ConfigError(f"{path}: has a header but no units; add one row per directorate, department or team")
    for key, row in rows.items():
        where = f"{path}, line {lines[key]}"
        if row["parent"] is not None and row["parent"] not in rows:
            raise ConfigError(f"{where}: parent {row['parent']!r} of {key} is not a key in the file; add its row, or "
                              "leave parent empty for a top-level unit")
        seen, at = [key], row["parent"]
        while at is not None:
            if at in seen:
                raise ConfigError(f"{where}: the parents of {key} lead back to it ({' → '.join(seen + [at])}); a unit "
                                  "cannot be inside itself")
            seen.append(at)
            at = rows[at]["parent"]
        if len(seen) > len(LEVELS):
            raise ConfigError(f"{where}: {key} is {len(seen)} levels deep ({' → '.join(reversed(seen))}); units nest "
                              f"{len(LEVELS)} deep at most: {', '.join(LEVELS)}")

    def tree(parent):
        out = []
        for row in rows.values():
            if row["parent"] == parent:
                node = {"key": row["key"], "name": row["name"]}
                if row["front_line"]:
                    node["front_line"] = True
                children = tree(row["key"])
                if children:
                    node["children"] = children
                out.append(node)
        return out
    return tree(None)


def configured(base: dict, organisation: dict, departments: list[dict], key_map: dict[str, str]) -> dict:
    """The shipped config (as read from YAML) for a new organisation: its own `organisation` and `departments`, and
    each department the catalogue names replaced by key_map's (ConfigError naming the first one not mapped, where a
    department is required)."""
    ours = {d["key"] for d in walk(departments)}
    bad = sorted(v for v in key_map.values() if v not in ours)
    if bad:
        raise ConfigError(f"--map names {', '.join(bad)}, not in the departments file; map to keys of your own "
                          "departments")
    missing = [k for k in named_departments(base) if k not in ours and k not in key_map]
    if missing:
        raise ConfigError(f"the catalogue names departments your organisation does not have: {', '.join(missing)}; "
                          "say which of yours stands for each with --map OLD=NEW (e.g. --map "
                          f"{missing[0]}=KEY), one per department")
    out = copy.deepcopy(base)
    # The shipped calendar's rules (business days, which sources bound the periods) stay; its name, place and local
    # closure days are the demo council's.
    out["organisation"] = {**{k: v for k, v in base.get("organisation", {}).items()
                              if k not in ("name", "time_zone", "country", "subdivision", "holidays")},
                           **organisation}
    out["departments"] = departments

    def mapped(key, where):
        if key in ours:
            return key
        if key not in key_map:
            raise ConfigError(f"{where} names the department {key!r}, which your organisation does not have; give "
                              f"--map {key}=KEY (one of your departments)")
        return key_map[key]
    for mkey, metric in (out.get("metrics") or {}).items():
        metric["owner"] = mapped(metric.get("owner"), f"metric {mkey} (its owner)")
        targets = metric.get("targets") or {}
        for dkey in [k for k in targets if k != "default"]:
            value = targets.pop(dkey)
            if dkey in ours or dkey in key_map:
                targets[dkey if dkey in ours else key_map[dkey]] = value
    for gkey, goal in (out.get("goals") or {}).items():
        if goal.get("departments"):
            goal["departments"] = list(dict.fromkeys(mapped(d, f"goal {gkey}") for d in goal["departments"]))
    if (out.get("chain") or {}).get("front_door"):
        out["chain"]["front_door"] = mapped(out["chain"]["front_door"], "chain.front_door")
    if (out.get("voice") or {}).get("unrouted_department"):
        out["voice"]["unrouted_department"] = mapped(out["voice"]["unrouted_department"], "voice.unrouted_department")
    return out


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("children") or [])


def named_departments(base: dict) -> list[str]:
    """The departments the shipped catalogue names (what --map must cover for an organisation without them)."""
    names = [m.get("owner") for m in (base.get("metrics") or {}).values()]
    names += [d for g in (base.get("goals") or {}).values() for d in (g.get("departments") or [])]
    names += [(base.get("chain") or {}).get("front_door"), (base.get("voice") or {}).get("unrouted_department")]
    return sorted({n for n in names if n})


def dump(config: dict) -> str:
    return ("# Written by `python -m metrics init` from the shipped config.yaml: the metric catalogue, sources and goals\n"
            "# as shipped, with this organisation's own details and departments. Every key is documented in README.md\n"
            "# (\"Configuration reference\"); `python -m metrics check --config THIS_FILE` validates it.\n"
            + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120))


def read_base(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)
