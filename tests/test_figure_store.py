"""The figure store gives exactly the live engine's numbers, and never a person's figure to someone who may not see it.

The live engine (figure_store "off") is the reference: every stored figure is compared with the figure the engine
computes for that metric, unit and period on its own, numerator, denominator and value, exactly (NaN = NaN).
"""
import datetime as dt
import math
import shutil

import pandas as pd
import pytest

from metrics import access
from metrics.access import SYSTEM, Role, Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute import figures
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.errors import AccessDenied, UnknownError


def same(a, b) -> bool:
    a = None if a is None or (isinstance(a, float) and math.isnan(a)) else float(a)
    b = None if b is None or (isinstance(b, float) and math.isnan(b)) else float(b)
    return a == b


def standard_periods(first: dt.date, last: dt.date) -> list[Period]:
    """Every calendar month, quarter and year from first's year to last's, written out here (not by the store)."""
    out = []
    for year in range(first.year, last.year + 1):
        out.append(Period(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        for q in range(4):
            start = dt.date(year, 3 * q + 1, 1)
            end = (dt.date(year + 1, 1, 1) if q == 3 else dt.date(year, 3 * q + 4, 1)) - dt.timedelta(days=1)
            out.append(Period(start, end))
        for m in range(1, 13):
            end = (dt.date(year + 1, 1, 1) if m == 12 else dt.date(year, m + 1, 1)) - dt.timedelta(days=1)
            out.append(Period(dt.date(year, m, 1), end))
    return out


def scopes_of(eng: Engine, metric) -> list[Scope]:
    srcs = [eng.config.sources[m.source] for m in metric.measures()]
    out = [ORGANISATION]
    if all(s.department is not None for s in srcs):
        out += [Scope(d.level, k) for k, d in eng.config.departments.items()]
    return out


def staff_of(eng: Engine) -> list[str]:
    return list(eng.read_store("SELECT staff_id FROM staff ORDER BY 1")["staff_id"])


def compare(live: pd.DataFrame, stored: pd.DataFrame, what: str) -> None:
    assert list(live.columns) == list(stored.columns), what
    assert len(live) == len(stored), what
    for col in live.columns:
        for i, (a, b) in enumerate(zip(live[col], stored[col])):
            ok = same(a, b) if col in ("numerator", "denominator", "value") else a == b
            assert ok, f"{what}: row {i} {col} live {a!r} stored {b!r}"


@pytest.fixture(scope="module")
def fixture_pair(engine):
    stored = Engine(engine.con, engine.config, figure_store="wait")
    return engine, stored


def check_every_figure(live: Engine, stored: Engine, people: list[str], single_months: int, single_year: bool = True) -> int:
    """Every storable metric × unit and person × standard period of the data's years: the stored figure against
    the live engine's. The live side is cut by month, quarter and year and by directorate, department and team,
    and by person for each standard period, in one query each; and, as single live figures (the path of a card),
    every unit and each of `people` for the last `single_months` months (and the last year). Returns the number
    of figures compared."""
    first, last = live.data_range()
    store = stored.refresh_figures()
    periods = standard_periods(first, last)
    years = [p for p in periods if p.whole_months() == 12]
    singles = (years[-1:] if single_year else []) + [p for p in periods if p.whole_months() == 1 and p.end <= last][-single_months:]
    checked = 0
    with live.snapshot(), stored.snapshot():
        for key, metric in live.config.metrics.items():
            if not figures.storable(metric):
                continue
            srcs = [live.config.sources[m.source] for m in metric.measures()]
            has_units = all(s.department is not None for s in srcs)
            has_staff = all(s.staff is not None for s in srcs)
            for period in periods:
                assert store.covers(key, period)
            cuts = [None] + (["directorate", "department", "team"] if has_units else [])
            if has_staff:            # people one period at a time (the engine cuts by person without a grain)
                for period in periods:
                    a = live.frame(SYSTEM, key, ORGANISATION, period, by="staff")
                    compare(a, stored.frame(SYSTEM, key, ORGANISATION, period, by="staff"), f"{key} {period} by person")
                    checked += len(a)
            for year in years:
                for grain in ("month", "quarter", "year"):
                    for by in cuts:
                        a = live.frame(SYSTEM, key, ORGANISATION, year, grain=grain, by=by)
                        compare(a, stored.frame(SYSTEM, key, ORGANISATION, year, grain=grain, by=by),
                                f"{key} {year} by {grain} and {by}")
                        checked += len(a)
            # everyone's own figures were all compared above, by person; here the lookup of one person's figure
            scopes = scopes_of(live, metric)[1:] + ([Scope("staff", s) for s in people] if has_staff else [])
            for scope in scopes:
                for period in singles:
                    compare(live.frame(SYSTEM, key, scope, period), stored.frame(SYSTEM, key, scope, period),
                            f"{key} {scope} {period}")
                    checked += 1
    return checked


def test_every_stored_figure_equals_the_live_one_on_the_fixture(fixture_pair):
    live, stored = fixture_pair
    assert check_every_figure(live, stored, staff_of(live), single_months=1) > 20_000


def test_every_stored_figure_equals_the_live_one_on_the_demo(config, demo_db):
    live = Engine.open(demo_db, config, read_only=True)
    stored = Engine(live.con, config, figure_store="wait")
    people = staff_of(live)
    assert check_every_figure(live, stored, people[::12], single_months=1, single_year=False) > 100_000


def test_series_and_breakdowns_read_from_the_store_equal_the_live_ones(fixture_pair):
    live, stored = fixture_pair
    first, last = live.data_range()
    year = Period(dt.date(last.year, 1, 1), dt.date(last.year, 12, 31))
    for key, metric in live.config.metrics.items():
        if not figures.storable(metric):
            continue
        for scope in scopes_of(live, metric)[:3]:
            for grain in ("month", "quarter"):
                compare(live.series(SYSTEM, key, scope, year, grain), stored.series(SYSTEM, key, scope, year, grain),
                        f"{key} {scope} by {grain}")
            for by in ("directorate", "department", "team"):
                try:
                    a = live.breakdown(SYSTEM, key, scope, year, by=by)
                except UnknownError:
                    continue
                compare(a, stored.breakdown(SYSTEM, key, scope, year, by=by), f"{key} {scope} by {by}")
        if all(live.config.sources[m.source].staff is not None for m in metric.measures()):
            compare(live.breakdown(SYSTEM, key, ORGANISATION, year, by="staff"),
                    stored.breakdown(SYSTEM, key, ORGANISATION, year, by="staff"), f"{key} by staff")


def test_a_custom_period_is_computed_live_with_the_same_numbers(fixture_pair):
    live, stored = fixture_pair
    first, last = live.data_range()
    odd = Period(first + dt.timedelta(days=3), last - dt.timedelta(days=2))
    store = stored.refresh_figures()
    for key in ("grade_of_service", "median_resolution_hours", "open_backlog"):
        assert store.answer(live.metric(key), live.rows_for(live.metric(key), ORGANISATION), odd,
                            figures.Grouping()) is None
        a, b = live.value(SYSTEM, key, period=odd), stored.value(SYSTEM, key, period=odd)
        assert (a.numerator, a.denominator, a.value) == (b.numerator, b.denominator, b.value)


def test_a_viewer_never_receives_a_figure_of_a_person_they_may_not_see(fixture_pair):
    live, stored = fixture_pair
    first, last = live.data_range()
    year = Period(dt.date(last.year, 1, 1), dt.date(last.year, 12, 31))
    people = live.read_store("SELECT staff_id, department_id FROM staff ORDER BY 1")
    me, dept = people.iloc[0]
    others = [s for s, d in zip(people.staff_id, people.department_id) if s != me]
    staff = Viewer(f"{me}@example", Role.STAFF, department_id=dept, staff_id=me)
    key = next(k for k, m in live.config.metrics.items() if figures.storable(m)
               and all(live.config.sources[x.source].staff is not None for x in m.measures()))
    stored.frame(staff, key, Scope("staff", me), year)          # one's own figure: allowed
    for other in others:
        with pytest.raises(AccessDenied):
            stored.frame(staff, key, Scope("staff", other), year)
    try:
        seen = set(stored.frame(staff, key, ORGANISATION, year, by="staff")["grp"])
    except AccessDenied:
        seen = set()
    assert seen <= {me}
    for head_dept in sorted(set(people.department_id)):
        head = Viewer(f"head-{head_dept}@example", Role.HEAD, department_id=head_dept)
        with live.con.cursor() as cur:
            theirs = access.visible_staff(cur, head)
        seen = list(stored.frame(head, key, ORGANISATION, year, by="staff")["grp"])
        assert seen == list(live.frame(head, key, ORGANISATION, year, by="staff")["grp"])
        assert set(seen) <= set(theirs)


def test_a_change_to_one_table_recomputes_only_the_metrics_reading_it(config, demo_db, tmp_path):
    db = tmp_path / "store.duckdb"
    shutil.copy(demo_db, db)
    eng = Engine.open(db, config, figure_store="wait")
    before = eng.refresh_figures()
    with eng.con.cursor() as cur:     # a dashboard-style write to invoices, recorded as every write is
        cur.execute("UPDATE invoices SET paid_at = paid_at + INTERVAL 40 DAY WHERE invoice_id = "
                    "(SELECT min(invoice_id) FROM invoices WHERE paid_at IS NOT NULL)")
        cur.execute("INSERT INTO audit_log (acted_at, user_name, role, action, entity, entity_id, changes) "
                    "VALUES (now(), 'test', 'admin', 'test', 'invoices', 'x', '{}')")
    after = eng.refresh_figures()
    expected = sorted(k for k, m in config.metrics.items() if figures.storable(m)
                      and "invoices" in {config.sources[x.source].table for x in m.measures()})
    assert sorted(after.recomputed) == expected and expected
    assert after.version != before.version
    live = Engine(eng.con, config)
    for key in expected:
        for period in standard_periods(*live.data_range())[-13:]:
            compare(live.frame(SYSTEM, key, ORGANISATION, period), eng.frame(SYSTEM, key, ORGANISATION, period),
                    f"{key} {period}")


def test_in_background_mode_pages_keep_the_previous_store_until_the_next_is_complete(config, engine):
    """After a change, the first reader gets the previous complete store at once (never a half-built one) and one
    build starts; when it is done, readers get the new store."""
    eng = Engine(engine.con, config, figure_store="background")
    assert eng.served_figures() is None                  # nothing built yet: pages compute live meanwhile
    eng._store_thread.join(timeout=300)
    first = eng.served_figures()
    assert first is not None and first.version == eng.data_version()
    with engine.con.cursor() as cur:                     # a dashboard-style write to one table
        cur.execute("INSERT INTO audit_log (acted_at, user_name, role, action, entity, entity_id, changes) "
                    "VALUES (now(), 'test', 'admin', 'test', 'feedback', 'x', '{}')")
    try:
        assert eng.data_version() != first.version
        served = eng.served_figures()
        assert served is first                           # the previous complete store, with its "last loaded"
        assert eng.last_load() == first.last_load
        eng._store_thread.join(timeout=300)
        second = eng.served_figures()
        assert second is not first and second.version == eng.data_version()
        assert set(second.recomputed) == {k for k, m in config.metrics.items() if figures.storable(m)
                                          and "feedback" in {config.sources[x.source].table for x in m.measures()}}
    finally:
        with engine.con.cursor() as cur:
            cur.execute("DELETE FROM audit_log WHERE user_name = 'test'")


@pytest.mark.parametrize("role", ["executive", "head", "staff"])
def test_pages_read_from_the_store_show_what_live_pages_show(env, config, monkeypatch, role):
    """The same first page, rendered computing live and reading the figure store: every card, text and table the
    same."""
    import app_cache
    from conftest import demo_sign_in

    def cards() -> list[tuple[str, str, str]]:
        app_cache.engine.clear()
        app_cache.clear()
        at, _ = demo_sign_in(role, env, config, timeout=300)
        return ([(m.label, m.value, m.delta) for m in at.metric] + [t.value for t in at.markdown]
                + [d.value.astype(str).values.tolist() for d in at.dataframe])

    monkeypatch.setenv("CX_FIGURE_STORE", "off")
    live = cards()
    monkeypatch.setenv("CX_FIGURE_STORE", "wait")
    stored = cards()
    assert app_cache.engine().served_figures() is not None
    assert live and stored == live


def test_the_store_kept_in_the_file_is_the_one_built_and_serves_a_restart_and_the_command_line(config, demo_db,
                                                                                                tmp_path, capsys):
    """A build is kept in the file; a new process reads it back figure for figure and serves it while the data is
    unchanged; after a change it is no longer served as current, and the next build carries over what it can."""
    from metrics.cli.main import main
    db = tmp_path / "kept.duckdb"
    shutil.copy(demo_db, db)
    eng = Engine.open(db, config, figure_store="wait")
    built = eng.refresh_figures()
    assert eng.last_save_seconds is not None
    eng.con.close()

    again = Engine.open(db, config, figure_store="saved")            # a restart, or the command line
    kept = again.served_figures()
    assert kept is not None and kept is not built and kept.version == again.data_version() == built.version
    for name in ("table_versions", "last_load", "spans", "data_range", "metric_versions", "units"):
        assert getattr(kept, name) == getattr(built, name), name
    assert set(kept.empty) == set(built.empty)
    assert all(same(a, b) for k in built.empty for a, b in zip(kept.empty[k], built.empty[k]))
    pairs = [(m, u, p) for m, units in built.entries.items() for u, periods in units.items() for p in periods]
    assert len(pairs) == kept.size() == built.size() > 100_000
    assert all(all(same(a, b) for a, b in zip(kept.entries[m][u][p], built.entries[m][u][p])) for m, u, p in pairs)
    live = Engine(again.con, config)
    period = again.default_period()
    for key in ("csat", "calls_offered", "median_resolution_hours"):
        a, b = live.value(SYSTEM, key, ORGANISATION, period), again.value(SYSTEM, key, ORGANISATION, period)
        assert same(a.value, b.value) and same(a.numerator, b.numerator) and same(a.denominator, b.denominator), key

    with again.con.cursor() as cur:                                   # a dashboard-style write to feedback
        cur.execute("INSERT INTO audit_log (acted_at, user_name, role, action, entity, entity_id, changes) "
                    "VALUES (now(), 'test', 'admin', 'test', 'feedback', 'x', '{}')")
    assert Engine(again.con, config, figure_store="saved").served_figures() is None    # out of date: computed live
    rebuilt = Engine(again.con, config, figure_store="wait").refresh_figures()          # starts from the kept store
    feedback = {k for k, m in config.metrics.items() if figures.storable(m)
                and "feedback" in {config.sources[x.source].table for x in m.measures()}}
    assert set(rebuilt.recomputed) == feedback and feedback
    again.con.close()

    # That engine was not made to keep its store (keep=False): the command line builds the same again and keeps it.
    assert main(["figure-store", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith(f"figure store: {rebuilt.size():,} figures; {len(feedback)} of "
                                              f"{len(built.metric_versions)} metrics computed on duckdb in ")
    assert main(["figure-store", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith(f"figure store: {rebuilt.size():,} figures; already current")
