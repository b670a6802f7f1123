"""The Spark backend gives the same numbers as DuckDB, from the same metric definitions.

Parity: every metric of the catalogue, for the organisation, two departments, one team and one staff
member, for two periods and a twelve-month monthly series (plus a breakdown by department and the
internal-service matrix, which use the zipped department lists, and a breakdown by a source's dimension column),
computed by DuckDB from the demo
database and by Spark (local mode) from `export-parquet` of that same database: no figure may differ
by more than 1e-9 relative. (The dashboard on Spark: tests/test_spark_dashboard.py.)
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from metrics.access import SYSTEM
from metrics.errors import UnknownError
from metrics.compute.periods import Period
from metrics.catalogue.scope import ORGANISATION, Scope
from tests.spark_support import demo, differences, engines  # noqa: F401 (fixtures)


def test_every_metric_has_the_same_figures_on_spark_as_on_duckdb(engines, config):
    duck, spark = engines
    last = duck.default_period()
    quarter = Period(dt.date(last.start.year, 7, 1), dt.date(last.start.year, 9, 30))
    y, m = (last.start.year, last.start.month - 11) if last.start.month == 12 else (last.start.year - 1,
                                                                                    last.start.month + 1)
    year = Period(dt.date(y, m, 1), last.end)                      # the twelve months ending with `last`
    staff_id = duck.read_store("""SELECT s.staff_id FROM staff s JOIN contacts c USING (staff_id)
                             WHERE s.department_id = 'cc_phones' GROUP BY s.staff_id
                             ORDER BY count(*) DESC, s.staff_id LIMIT 1""").iloc[0, 0]
    scopes = [ORGANISATION, Scope("department", "contact_centre"), Scope("department", "housing"),
              Scope("team", "cc_phones"), Scope("staff", staff_id)]
    jobs = []
    for key in config.metrics:
        for scope in scopes:
            jobs += [(key, scope, last, None, None), (key, scope, quarter, None, None), (key, scope, year, "month", None)]
        jobs.append((key, ORGANISATION, last, None, "department"))

    def run(job):
        key, scope, period, grain, by = job
        got = []
        for eng in (duck, spark):
            try:
                got.append(eng.frame(SYSTEM, key, scope, period, grain=grain, by=by))
            except UnknownError as exc:      # a figure the definition cannot give (e.g. per person): refused alike
                got.append(str(exc))
        return job, got

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, jobs))
    compared, refused, problems = 0, 0, []
    for (key, scope, period, grain, by), (a, b) in results:
        where = f"{key} {scope.kind}:{scope.key} {period.start}..{period.end} {grain or ''} {by or ''}"
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                problems.append(f"{where}: duckdb {a!r} spark {b!r}")
            elif scope.kind != "staff":
                problems.append(f"{where}: refused on both ({a})")
            refused += 1
            continue
        compared += 1
        problems += [f"{where}: {d}" for d in differences(a, b)]
    assert not problems, "\n".join(problems[:30])
    assert compared + refused == len(config.metrics) * 16
    # Every figure a person can have was compared: refusals are only the metrics with no per-person source.
    per_person = sum(1 for m in config.metrics.values()
                     if not m.observations and all(config.sources[x.source].staff for x in m.measures()))
    assert refused == 3 * (len(config.metrics) - per_person)
    assert compared >= 13 * len(config.metrics)


def test_internal_service_matrix_is_the_same_on_spark(engines, config):
    """The matrix cuts by provider and by asking department: both department lists zipped in one query."""
    duck, spark = engines
    period = duck.default_period()
    for key in ("internal_sla_attainment", "internal_median_response_hours", "internal_csat"):
        a, b = (e.matrix(SYSTEM, key, period) for e in (duck, spark))
        a, b = (x.sort_values(["grp", "grp2"]).reset_index(drop=True) for x in (a, b))
        assert len(a) >= 10 and not differences(a, b), (key, len(a), differences(a, b)[:5])


def test_a_breakdown_by_a_dimension_is_the_same_on_spark(engines):
    """A cut by a dimension column (Grouping.column): contacts by channel, and survey answers by theme — its rows with
    no theme one group, small groups suppressed alike."""
    duck, spark = engines
    period = duck.default_period()
    for key, by in (("first_contact_resolution", "channel"), ("csat", "theme")):
        a, b = (e.breakdown(SYSTEM, key, ORGANISATION, period, by=by) for e in (duck, spark))
        assert len(a) >= 2 and list(a["name"]) == list(b["name"]) and not differences(a, b), (key, differences(a, b)[:5])


def test_the_comparison_catches_a_difference_beyond_1e9():
    import pandas as pd
    base = pd.DataFrame({"numerator": [3.0], "denominator": [7.0], "value": [3 / 7], "suppressed": [False]})
    near, far = base.copy(), base.copy()
    near.loc[0, "value"] = 3 / 7 * (1 + 5e-10)
    far.loc[0, "value"] = 3 / 7 * (1 + 2e-9)
    assert differences(base, near) == []
    assert len(differences(base, far)) == 1
    blank = base.copy()
    blank.loc[0, "value"] = float("nan")
    assert len(differences(base, blank)) == 1
