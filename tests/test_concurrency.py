"""Many sessions at once: a result missing from the cache is computed once while the others wait for it, a figure
store is built once however many ask, and nothing about one person reaches another's results."""
import shutil
import threading
import time

import pytest

import app_cache
from metrics.access import Role, Viewer
from metrics.compute import figures
from metrics.compute.engine import Engine
from metrics.compute.periods import month
from metrics.present import views

CALLS: list = []


def slow_answer(engine, viewer, n):
    """Stands in for an expensive page-data call: records who computed it, and takes long enough that every
    thread asks while the first is still computing."""
    CALLS.append((viewer.user, n))
    time.sleep(0.5)
    return (viewer.user, n * 2)


def at_once(calls: list) -> list:
    """Run each zero-argument call in its own thread, all released together; return their results in order."""
    start = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i, call):
        start.wait()
        out[i] = call()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


@pytest.fixture
def app_engine(demo_db, tmp_path, monkeypatch):
    db = tmp_path / "concurrent.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CX_DB", str(db))
    monkeypatch.setenv("CX_FIGURE_STORE", "off")
    app_cache.engine.clear()
    app_cache.clear()
    CALLS.clear()
    yield app_cache.engine()
    app_cache.engine.clear()
    app_cache.clear()


def test_eight_sessions_missing_the_same_result_compute_it_once(app_engine):
    viewer = Viewer("head@example.org", Role.HEAD, department_id="contact_centre")
    results = at_once([lambda: app_cache.view(slow_answer, viewer, 21)] * 8)
    assert CALLS == [("head@example.org", 21)]          # one computed; seven waited for it
    assert results == [("head@example.org", 42)] * 8


def test_simultaneous_people_each_get_their_own_result(app_engine):
    """Four people ask for the same personal call at the same moment: four computations, each with its own
    viewer, each answer back to the one who asked."""
    people = [Viewer(f"p{i}@example.org", Role.STAFF, staff_id=f"S{i}") for i in range(4)]
    results = at_once([lambda v=v: app_cache.view(slow_answer, v, 1) for v in people for _ in range(3)])
    assert sorted(CALLS) == [(v.user, 1) for v in people]
    assert results == [(v.user, 2) for v in people for _ in range(3)]


def test_real_personal_figures_at_once_match_each_persons_own(app_engine, config):
    """The staff page's figures for two people, asked for by both at once (twice each), equal each person's
    figures computed alone, and differ between them: no result crosses from one person to the other."""
    eng = app_engine
    staff = eng.read_store("""SELECT c.staff_id, s.department_id FROM contacts c JOIN staff s USING (staff_id)
                              WHERE c.received_at >= DATE '2025-11-01' AND c.received_at < DATE '2025-12-01'
                              GROUP BY ALL ORDER BY count(*) DESC, c.staff_id LIMIT 2""")
    people = [Viewer(f"{s}@example.org", Role.STAFF, staff_id=s, department_id=d)
              for s, d in zip(staff["staff_id"], staff["department_id"])]
    period = month(2025, 11)
    alone = {v.staff_id: views.personal(Engine(eng.con, config), v, v.staff_id, period) for v in people}
    assert not alone[people[0].staff_id].equals(alone[people[1].staff_id])
    calls = [lambda v=v: (v.staff_id, app_cache.view(views.personal, v, v.staff_id, period)) for v in people * 2]
    for staff_id, frame in at_once(calls):
        assert frame.equals(alone[staff_id])


def test_simultaneous_requests_for_a_new_store_build_it_once(fresh_engine, monkeypatch):
    eng = fresh_engine
    builds = []
    real = figures.build

    def counted(*args, **kwargs):
        builds.append(threading.get_ident())
        return real(*args, **kwargs)
    monkeypatch.setattr(figures, "build", counted)
    stores = at_once([eng.refresh_figures] * 4)
    assert len(builds) == 1
    assert all(s is stores[0] for s in stores)


BUILDS: list = []


def slow_format(df, suffix):
    """Stands in for formatting a table for people: records each build, slow enough for every thread to ask."""
    BUILDS.append(len(df))
    time.sleep(0.3)
    return df.assign(shown=[f"{v}{suffix}" for v in df["v"]])


def test_a_table_shown_to_several_sessions_at_once_is_formatted_once(app_engine):
    import pandas as pd
    BUILDS.clear()
    same = pd.DataFrame({"v": [1, 2, 3]})
    tables = at_once([lambda: app_cache.shown(slow_format, same.copy(), " a", names_from_data=False)] * 6)
    assert BUILDS == [3]                                   # six sessions, one build
    assert all(t.equals(tables[0]) for t in tables)
    assert tables[0].column("shown").to_pylist() == ["1 a", "2 a", "3 a"]
    other = app_cache.shown(slow_format, pd.DataFrame({"v": [1, 2, 4]}), " a", names_from_data=False)
    assert BUILDS == [3, 3]                                # other content: its own table
    assert other.column("shown").to_pylist() == ["1 a", "2 a", "4 a"]


def frame_of(engine, viewer, n):
    import pandas as pd
    return pd.DataFrame({"n": list(range(n))})


def test_a_page_changing_its_data_changes_no_one_elses(app_engine):
    viewer = Viewer("head@example.org", Role.HEAD, department_id="contact_centre")
    mine = app_cache.view(frame_of, viewer, 3)
    mine["n"] = [9, 9, 9]                                  # a page writing into what it got
    mine.loc[0, "n"] = 7
    mine["extra"] = 1
    assert app_cache.view(frame_of, viewer, 3).to_dict("list") == {"n": [0, 1, 2]}
