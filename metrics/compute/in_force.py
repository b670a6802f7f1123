"""Which target judges a figure: the department whose target applies to a scope (a person's team on the period's
first day, from staff_assignments), and the target in force on that day — set in the database
(metrics/features/targets.py), else config.yaml's (target_status.target_for).

`TargetsInForce` is a part of `Engine` (metrics/compute/engine.py), like ServedState; it uses the engine's config,
cursors, reads, snapshot and per-version facts.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from metrics.catalogue.definitions import Metric, Target
from metrics.catalogue.scope import Scope
from metrics.compute import target_status
from metrics.compute.periods import Period


class TargetsInForce:
    """The target in force for a figure: a part of Engine."""

    def target_department(self, scope: Scope, on: dt.date | None = None) -> str | None:
        """The department whose target applies to a scope (a person takes the team they were in on `on`, the first day
        of the period judged — staff_assignments — else their team today)."""
        if scope.kind == "staff":
            self.staff_department(scope.key)                 # an unknown person is an error, whatever the day
            return self._assigned_department(scope.key, on) if on is not None else self.staff_department(scope.key)
        return scope.key if scope.is_unit else None

    def _assigned_department(self, staff_id: str, on: dt.date) -> str:
        known = getattr(self._local, "staff", None) if getattr(self._local, "cursor", None) is not None else None
        if known is not None and (staff_id, on) in known:
            self.reads.note(("t:staff_assignments",))
            return known[(staff_id, on)]
        with self.cursor() as cur:
            row = cur.execute("SELECT department_id FROM staff_assignments WHERE staff_id = $s AND valid_from <= $d "
                              "AND (valid_to IS NULL OR valid_to > $d) ORDER BY valid_from DESC LIMIT 1",
                              {"s": staff_id, "d": on}).fetchone()
        department = row[0] if row else self.staff_department(staff_id)   # no assignment that day: today's team
        if known is not None:
            known[(staff_id, on)] = department
        return department

    def target(self, metric: Metric, department: str | None, period: Period) -> Target | None:
        """The target a department's (None: the organisation's) figure for the period is judged against: the one in
        force on its first day — set in the database (metrics/features/targets.py), else config.yaml's."""
        return target_status.target_for(metric, department, self.config, self.held_targets(), period.start)

    def held_targets(self) -> target_status.Held:
        """The approved targets in the database by metric and unit, each with the day it takes effect (read once per
        data version); empty for a read-only file from before they were kept (schema 7)."""
        def compute():
            try:
                df = self.read_store("SELECT metric_key, department_id, effective_from, target, warning FROM targets "
                                     "WHERE status = 'approved' ORDER BY effective_from, decided_at, target_id")
            except duckdb.CatalogException:
                return {}
            held: dict = {}
            for m, d, on, t, w in zip(df["metric_key"], df["department_id"], df["effective_from"], df["target"],
                                      df["warning"]):
                held.setdefault((m, None if pd.isna(d) else d), []).append(
                    (pd.Timestamp(on).date(), Target(float(t), None if pd.isna(w) else float(w))))
            return {k: tuple(v) for k, v in held.items()}
        return self._per_version("targets", compute)

