"""Build the demo database file: schema, config tables, generated data — all or nothing.

The file is written under a temporary name and moved into place only when complete, so an
interrupted build never leaves a half-written database where the dashboard would find it.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pandas as pd

from metrics.catalogue import calendar

from metrics.demo import council
from metrics.catalogue.definitions import Config
from metrics.errors import MetricsError
from metrics.store.database import connect, up_to_date


def build_demo_database(path: str | Path, config: Config, scale: float = 1.0, seed: int | None = None,
                        force: bool = False) -> dict:
    """Generate the synthetic organisation into a new DuckDB file.

    Args:
        path: where the database goes.
        config: departments and calendar come from here.
        scale: multiplies event volumes (1.0 ≈ 96,000 calls a year for 2023–2025).
        seed: the generator's seed (default: the fixed demo seed, so every build is identical).
        force: replace an existing file.
    Returns:
        {"rows": {table: count}, "seconds": elapsed, "path": str}.
    """
    path = Path(path)
    if scale <= 0:
        raise MetricsError(f"--scale must be a positive number, got {scale}")
    if path.exists() and not force:
        raise MetricsError(f"{path} already exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    con = connect(tmp, config, create=True)
    try:
        holidays = {d for d in calendar.holiday_names(config.organisation)}
        frames = council.generate(list(config.departments.values()), holidays, config.organisation.name,
                               scale=scale, seed=council.DEFAULT_SEED if seed is None else seed)
        frames.pop("departments", None)      # the departments table is config's copy, already written
        frames["meta"] = pd.concat([frames["meta"], pd.DataFrame(
            {"key": ["built_at"], "value": [dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")]})])
        rows = council.write(con, frames)
        up_to_date(con)                      # contact_links from the rules (the file is not in place yet)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, path)
    return {"rows": rows, "seconds": time.perf_counter() - started, "path": str(path)}
