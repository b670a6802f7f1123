"""Results the page cache shares across viewers really are the same for every viewer.

metrics.access.same_for_every_viewer declares which page-data functions a cache may compute once for everybody
(app_cache.view then computes them as access.EVERYONE). A wrong declaration would show one person's view to
another, so every declared function is called here as each kind of viewer — an executive, a head, a staff
member, an administrator and an administrator viewing as a staff member — and each result must equal the
result computed as EVERYONE. A function added later with a parameter this test has no example for fails here
until an example is added, so no declaration goes unchecked.
"""
from __future__ import annotations

import inspect

import pandas as pd
import pytest

from metrics import access
from metrics.access import EVERYONE, Role
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.features import chain, demand, events, peers
from metrics.present import personas, views
from metrics.voice import praise, suggestions, themes

# Every module declaring shared results is imported above, so the registry is complete.
MODULES = (views, chain, demand, events, peers, themes, praise, suggestions, personas)


@pytest.fixture(scope="module")
def eng(demo_db, config):
    e = Engine.open(demo_db, config, read_only=True)
    yield e
    e.con.close()


def _viewers(eng):
    found = {p.viewer.role: p.viewer for p in personas.demo_personas(eng)}
    admin = found[Role.ADMIN]
    return {"executive": found[Role.EXECUTIVE], "head": found[Role.HEAD], "staff": found[Role.STAFF],
            "admin": admin, "admin viewing as staff": access.viewing_as(found[Role.STAFF], admin)}


def _examples(eng) -> dict[str, list]:
    """Example arguments by parameter name (each function is called with every combination's first value and
    with each scope)."""
    department = next(k for k, d in eng.config.departments.items() if d.level == "department")
    headline = eng.config.page("overview", "headline")
    return {"scope": [ORGANISATION, Scope("department", department)],
            "period": [eng.default_period()], "span": [eng.default_period()],
            "keys": [headline],
            "metric_key": [headline[0]],
            "unit": [department], "department": [department], "key": [department],
            "grain": ["month"]}


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b)
            return True
        except AssertionError:
            return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _calls(func, examples):
    """The argument tuples to call func with: required parameters from the examples; each scope in turn."""
    params = list(inspect.signature(func).parameters.values())[2:]      # after (engine, viewer)
    required = [p for p in params if p.default is inspect.Parameter.empty]
    missing = [p.name for p in required if p.name not in examples]
    assert not missing, (f"{func.__module__}.{func.__qualname__} is declared same_for_every_viewer but this test has "
                         f"no example argument for {', '.join(missing)}: add one to _examples")
    scopes = examples["scope"] if any(p.name == "scope" for p in required) else [None]
    return [tuple(s if p.name == "scope" else examples[p.name][0] for p in required) for s in scopes]


def test_every_declared_function_is_checked():
    declared = access.declared_same_for_every_viewer()
    assert len(declared) >= 15                       # cards, goals, heatmap, trend, the chain's five, benchmarks, ...
    assert {f.__module__ for f in declared} <= {m.__name__ for m in MODULES}


def test_a_shared_result_is_the_same_for_every_viewer(eng):
    examples, viewers = _examples(eng), _viewers(eng)
    checked = 0
    for func in sorted(access.declared_same_for_every_viewer(), key=lambda f: (f.__module__, f.__qualname__)):
        for args in _calls(func, examples):
            everyone = func(eng, EVERYONE, *args)
            for who, viewer in viewers.items():
                got = func(eng, viewer, *args)
                assert _same(got, everyone), (f"{func.__module__}.{func.__qualname__}{args} differs for {who}: it may "
                                              "not be declared same_for_every_viewer")
                checked += 1
    assert checked >= 15 * len(viewers)


def test_the_check_catches_a_result_that_depends_on_the_viewer(eng):
    """The comparison would notice a function that shows each viewer something of their own."""
    def personal_greeting(engine, viewer, period):
        return pd.DataFrame({"hello": [viewer.user]})
    viewers = _viewers(eng)
    period = eng.default_period()
    assert not _same(personal_greeting(eng, viewers["staff"], period), personal_greeting(eng, EVERYONE, period))


def test_about_a_person_is_never_shared():
    staff = Scope("staff", "S0001")
    viewer = access.Viewer("ann", Role.STAFF, "cc_phones", "S0001")
    assert access.shared_viewer(views.cards, viewer, (staff,)) is viewer
    assert access.shared_viewer(views.cards, viewer, (ORGANISATION,)) is EVERYONE
    assert access.shared_viewer(views.personal, viewer, ("S0001",)) is viewer      # not declared
