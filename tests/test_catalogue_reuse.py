"""Definitions reused, not copied (issue 15): named measures, misses derived from a ratio, observed metrics.

- `measures:` defines an aggregation once (offered calls: phone calls less short abandons, the threshold in
  its own params) and metrics use it by name; a measure may narrow another (abandoned calls = offered calls
  that were abandoned).
- `type: misses, of: RATIO` counts the rows of the ratio's denominator that its numerator leaves out, with the
  ratio's params (late_callbacks uses callback_within_1_day's business_days).
- `type: observed` takes figures from kpi_observations.

The expected numbers are worked by hand from tests/fixture.sql (May 2024 unless said otherwise).
"""
import copy
import re
from pathlib import Path

import pytest
import yaml

from metrics.access import SYSTEM
from metrics.catalogue.parse import parse_config
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import month
from metrics.compute.query import Grouping, Rows
from metrics.compute.sqlcheck import check_sql
from metrics.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
MAY, APRIL = month(2024, 5), month(2024, 4)
HOUSING, CC, FINANCE = Scope("department", "housing"), Scope("department", "contact_centre"), Scope("department", "finance")
MISSES = {"late_requests": "sla_attainment", "late_callbacks": "callback_within_1_day",
          "unresolved_contacts": "first_contact_resolution", "late_payments": "paid_within_terms",
          "loop_not_closed": "closed_loop_rate"}


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def errors_of(raw, mutate) -> list[str]:
    bad = copy.deepcopy(raw)
    mutate(bad)
    with pytest.raises(ConfigError) as info:
        parse_config(bad)
    return info.value.errors


# --- the shipped catalogue uses the new forms ------------------------------------------------------
def test_the_short_abandon_threshold_and_the_callback_day_are_typed_once(config):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert len(re.findall(r"short_abandon_seconds: \d", text)) == 1
    assert len(re.findall(r"\bbusiness_days: 1\b", text)) == 1          # callback_within_1_day's params
    for key in ("grade_of_service", "abandonment_rate", "abandoned_calls"):
        assert config.metrics[key].params["short_abandon_seconds"] == 5, key
    assert config.metrics["late_callbacks"].params == config.metrics["callback_within_1_day"].params == {"business_days": 1}
    assert config.metrics["loop_not_closed"].params == config.metrics["closed_loop_rate"].params == {"business_days": 2}


def test_metrics_use_the_named_measures(config):
    m = config.metrics
    assert m["grade_of_service"].denominator.name == "offered_calls"
    assert (m["abandonment_rate"].numerator.name, m["abandonment_rate"].denominator.name) == ("abandoned_calls", "offered_calls")
    assert m["abandoned_calls"].measure == m["abandonment_rate"].numerator
    assert m["grade_of_service"].denominator == m["abandonment_rate"].denominator
    assert m["grade_of_service"].numerator.name is None                  # written out, as before


def test_misses_and_observed_metrics(config, raw):
    for key, base in MISSES.items():
        metric = config.metrics[key]
        assert (metric.kind, metric.type, metric.base) == ("misses", "simple", base), key
        assert metric.measure.agg == "count" and metric.measure.source == config.metrics[base].denominator.source
    aht = config.metrics["avg_handle_time"]
    assert (aht.kind, aht.type, aht.observations, aht.measures()) == ("observed", "ratio", True, ())
    assert not any(m.observations for k, m in config.metrics.items() if k != "avg_handle_time")
    assert not re.search(r"^\s+observations:", (ROOT / "config.yaml").read_text(encoding="utf-8"), re.M)
    assert list(config.metrics) == list(raw["metrics"])                  # misses are parsed last, kept in file order


# --- derived figures equal hand counts --------------------------------------------------------------
# (metric, scope, period, value) — worked from tests/fixture.sql
HAND = [
    # Requests closed in May, external, with a due time, after it: R2 (due 3 May, closed 6 May, Repairs). R1 closed
    # exactly at its due time (kept); R3 kept; R9 has no due time, so is neither kept nor late; R5 R7 are internal.
    ("late_requests", ORGANISATION, MAY, 1), ("late_requests", HOUSING, MAY, 1), ("late_requests", CC, MAY, 0),
    # Closed in April: none (R3 closed 10 May, R4 is open).
    ("late_requests", ORGANISATION, APRIL, 0),
    # Referrals handed in May: H1 (Fri → Tue over the bank holiday: 1 business day) and H3 (Fri → Mon: 1) in time;
    # H2 (Fri → Wed: 2), H4 (Fri → Tue: 2) late; H5, H6 never answered → 4, all to Repairs.
    ("late_callbacks", ORGANISATION, MAY, 4), ("late_callbacks", HOUSING, MAY, 4), ("late_callbacks", CC, MAY, 0),
    ("late_callbacks", Scope("staff", "S2"), MAY, 4),
    # April: H7 Tue 30 Apr → Thu 2 May (2 business days) and H8 25 Apr → 3 May: both late.
    ("late_callbacks", ORGANISATION, APRIL, 2),
    # May contacts not resolved at first contact: c2, c3, c4 (all cc_phones); Ann's own: c2 (c3 c4 have no one).
    ("unresolved_contacts", ORGANISATION, MAY, 3), ("unresolved_contacts", CC, MAY, 3),
    ("unresolved_contacts", HOUSING, MAY, 0), ("unresolved_contacts", Scope("staff", "S1"), MAY, 1),
    ("unresolved_contacts", ORGANISATION, APRIL, 1),                  # c8
    # Paid in May after their terms: I2 (15 days on 14, Accounts payable), I3 (31 on 30, Repairs); I1 14 on 14 and
    # I4 18 on 30 are on time; I5 is unpaid.
    ("late_payments", ORGANISATION, MAY, 2), ("late_payments", FINANCE, MAY, 1), ("late_payments", HOUSING, MAY, 1),
    ("late_payments", ORGANISATION, APRIL, 0),                       # nothing paid in April
    # Negative feedback in May not followed up within 2 business days: F4 (Fri → Wed: 3), F5 and F10 (never),
    # all Repairs; F3 (2 days), F6 F8 F14 (same day) are in time.
    ("loop_not_closed", ORGANISATION, MAY, 3), ("loop_not_closed", HOUSING, MAY, 3), ("loop_not_closed", CC, MAY, 0),
    ("loop_not_closed", ORGANISATION, APRIL, 0),                     # F7, followed up the same day
    # Phone calls abandoned after 5 s or more: c4 (exactly 5.0 s); c3 (4.9 s) is a short abandon.
    ("abandoned_calls", ORGANISATION, MAY, 1), ("abandoned_calls", HOUSING, MAY, 0),
]


@pytest.mark.parametrize("key, scope, period, expected", HAND, ids=[f"{k}-{s}-{p.start:%b}" for k, s, p, _ in HAND])
def test_a_derived_metric_equals_the_hand_count(engine, key, scope, period, expected):
    r = engine.value(SYSTEM, key, scope, period, compare=False)
    assert (r.numerator, r.value) == (expected, expected)


def test_ratios_on_named_measures_equal_the_hand_count(engine):
    # Offered in May: c1 c2 c4 c5 c6 (c3 abandoned after 4.9 s is left out; c7 is an email).
    # Answered within 20 s: c1 (20 s exactly), c5 → 2/5; abandoned after ≥ 5 s: c4 → 1/5.
    gos = engine.value(SYSTEM, "grade_of_service", ORGANISATION, MAY, compare=False)
    assert (gos.numerator, gos.denominator) == (2, 5)
    ab = engine.value(SYSTEM, "abandonment_rate", ORGANISATION, MAY, compare=False)
    assert (ab.numerator, ab.denominator, ab.value) == (1, 5, 0.2)


# The rows each miss is (ids worked by hand as above) and the id column of its source.
MISS_ROWS = {"late_requests": ("request_id", ["R2"]), "late_callbacks": ("handoff_id", ["H2", "H4", "H5", "H6"]),
             "unresolved_contacts": ("contact_id", ["c2", "c3", "c4"]), "late_payments": ("invoice_id", ["I2", "I3"]),
             "loop_not_closed": ("feedback_id", ["F10", "F4", "F5"]), "abandoned_calls": ("contact_id", ["c4"])}


@pytest.mark.parametrize("key", list(MISS_ROWS))
def test_the_records_of_a_misses_metric_are_its_misses_each_counted(engine, key):
    column, ids = MISS_ROWS[key]
    rows = engine.rows_behind(engine.metric(key), Rows("all"), MAY, 1000)
    assert sorted(rows[column]) == ids
    if engine.metric(key).kind == "misses":
        assert rows["counted"].tolist() == [True] * len(ids)
        # ... and they are the base ratio's records that its numerator does not count.
        base = engine.rows_behind(engine.metric(MISSES[key]), Rows("all"), MAY, 1000)
        assert sorted(base.loc[~base["counted"], column]) == ids


def test_misses_are_the_denominator_less_the_numerator_in_every_team(engine):
    """A second computation: each base's numerator rows are a subset of its denominator rows, so its misses are
    denominator − numerator, for every team and both months."""
    for key, base in MISSES.items():
        for period in (APRIL, MAY):
            misses = engine.breakdown(SYSTEM, key, ORGANISATION, period, by="team").set_index("grp")
            ratio = engine.breakdown(SYSTEM, base, ORGANISATION, period, by="team").set_index("grp")
            assert (misses["value"] == ratio["denominator"] - ratio["numerator"]).all(), (key, period)


def test_an_abandon_with_no_wait_recorded_is_a_short_abandon(fresh_engine):
    # A phone call abandoned with no wait recorded counts as 0 s: a short abandon, in neither side (as before the
    # measures: `coalesce(wait_seconds, 0)`). calls_offered counts every phone call: 6 + 1 = 7.
    fresh_engine.con.execute("INSERT INTO contacts (contact_id, channel, received_at, abandoned, wait_seconds, "
                             "department_id, resolved_first_contact, referred) VALUES "
                             "('c9', 'phone', TIMESTAMP '2024-05-04 10:00', true, NULL, 'cc_phones', false, false)")
    ab = fresh_engine.value(SYSTEM, "abandonment_rate", ORGANISATION, MAY, compare=False)
    assert (ab.numerator, ab.denominator) == (1, 5)
    assert fresh_engine.value(SYSTEM, "calls_offered", ORGANISATION, MAY, compare=False).value == 7
    # ... and a contact not resolved first time is one more unresolved contact: c2 c3 c4 c9.
    assert fresh_engine.value(SYSTEM, "unresolved_contacts", ORGANISATION, MAY, compare=False).value == 4


def test_a_callback_the_calendar_cannot_count_is_a_miss(fresh_engine):
    # A referral handed on 15 May answered on 2 Jan 2041, past the business-day calendar (2000–2040): it has no
    # business-day count, so it is not in callback_within_1_day's numerator (TRUE AND NULL), and it is one of its
    # misses (the rule late_callbacks had before: NOT coalesce(response_business_days <= 1, false)) → 4 + 1 = 5.
    fresh_engine.con.execute("INSERT INTO handoffs (handoff_id, case_type, case_id, from_department_id, to_department_id, "
                             "to_staff_id, handed_at, responded_at) VALUES ('H10', 'referral', 'cx', 'cc_phones', "
                             "'housing_repairs', 'S2', TIMESTAMP '2024-05-15 10:00', TIMESTAMP '2041-01-02 10:00')")
    cb = fresh_engine.value(SYSTEM, "callback_within_1_day", ORGANISATION, MAY, compare=False)
    assert (cb.numerator, cb.denominator) == (2, 7)
    assert fresh_engine.value(SYSTEM, "late_callbacks", ORGANISATION, MAY, compare=False).value == 5


# --- forms a council analyst may write -------------------------------------------------------------
def test_a_side_may_narrow_a_named_measure(raw, engine):
    cfg = copy.deepcopy(raw)
    cfg["metrics"]["abandonment_rate"]["numerator"] = {"measure": "offered_calls", "filter": "abandoned"}
    config = parse_config(cfg)
    check_sql(config)
    metric = config.metrics["abandonment_rate"]
    sql, params = engine.builder.build(metric, Rows("all"), MAY, Grouping())
    row = engine.read_store(sql, params).iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 5)                # c4 of c1 c2 c4 c5 c6, as the named form


def test_a_misses_metric_may_come_before_its_ratio_and_needs_no_measures_section(raw):
    cfg = copy.deepcopy(raw)
    cfg["metrics"] = {"late_requests": cfg["metrics"]["late_requests"], **cfg["metrics"]}
    config = parse_config(cfg)
    assert list(config.metrics)[0] == "late_requests" and config.metrics["late_requests"].base == "sla_attainment"


# --- each new mistake is one sentence with its key path ---------------------------------------------
def _measures(c):
    return c["measures"]


def _misses_of(c, of):
    """A new misses metric (one no goal or page names, so its mistake is the only one)."""
    c["metrics"]["new_misses"] = {"label": "New", "description": "A test.", "owner": "contact_centre", "type": "misses",
                                  "of": of, "direction": "lower_is_better", "format": "number"}
    return c["metrics"]["new_misses"]


BAD = [
    ("unknown measure as a side",
     lambda c: c["metrics"]["abandonment_rate"].update(denominator="offerd_calls"),
     "metrics.abandonment_rate.denominator: unknown measure 'offerd_calls' (measures: offered_calls, abandoned_calls)"),
    ("unknown measure in a mapping side",
     lambda c: c["metrics"]["abandonment_rate"].update(numerator={"measure": "abandons", "filter": "abandoned"}),
     "metrics.abandonment_rate.numerator.measure: unknown measure 'abandons'"),
    ("unknown measure of a simple metric",
     lambda c: c["metrics"]["abandoned_calls"].update(measure="abandon_calls"),
     "metrics.abandoned_calls.measure: unknown measure 'abandon_calls'"),
    ("unknown measure narrowed",
     lambda c: _measures(c)["abandoned_calls"].update(measure="offered"),
     "measures.abandoned_calls.measure: unknown measure 'offered'"),
    ("unknown measure narrowed, named before the others",
     lambda c: c.update(measures={"first": {"measure": "offered", "filter": "abandoned"}, **_measures(c)}),
     "measures.first.measure: unknown measure 'offered' (measures: first, offered_calls, abandoned_calls)"),
    ("a cycle of measures",
     lambda c: _measures(c).update(a={"measure": "b", "filter": "abandoned"}, b={"measure": "a", "filter": "referred"}),
     "measures.b.measure: a → b → a is a cycle"),
    ("a measure narrowing itself",
     lambda c: _measures(c).update(a={"measure": "a", "filter": "abandoned"}),
     "measures.a.measure: a → a is a cycle"),
    ("a measure's param set again on a metric",
     lambda c: c["metrics"]["abandonment_rate"].update(params={"short_abandon_seconds": 10}),
     "metrics.abandonment_rate.params.short_abandon_seconds: comes from measure 'abandoned_calls' (see measures:); "
     "a parameter is set once"),
    ("a measure's param set again on a narrowing measure",
     lambda c: _measures(c)["abandoned_calls"].update(params={"short_abandon_seconds": 3}),
     "measures.abandoned_calls.params.short_abandon_seconds: already set by measure 'offered_calls'"),
    ("two measures binding one name differently",
     lambda c: (_measures(c).update(quick={"source": "phone_calls", "agg": "count", "params": {"short_abandon_seconds": 3},
                                           "filter": "wait_seconds < {short_abandon_seconds}"}),
                c["metrics"]["abandonment_rate"].update(numerator="quick")),
     "metrics.abandonment_rate: measures 'quick' and 'offered_calls' set short_abandon_seconds to different values"),
    ("an undeclared placeholder in a measure",
     lambda c: _measures(c)["offered_calls"].update(filter="NOT (abandoned AND wait_seconds < {short_abandon})"),
     "measures.offered_calls.filter: unknown placeholder {short_abandon}; declare it under params "
     "(declared: short_abandon_seconds)"),
    ("a measure key beside a named measure",
     lambda c: c["metrics"]["abandonment_rate"].update(numerator={"measure": "offered_calls", "source": "contacts"}),
     "metrics.abandonment_rate.numerator.source: comes from measure 'offered_calls'; only a filter narrowing it"),
    ("misses of a simple metric",
     lambda c: _misses_of(c, "requests_closed"),
     "metrics.new_misses.of: requests_closed is a simple metric, not a ratio; misses are the rows of a ratio's "
     "denominator that its numerator leaves out"),
    ("misses of an observed metric",
     lambda c: _misses_of(c, "avg_handle_time"),
     "metrics.new_misses.of: avg_handle_time is an observed metric, not a ratio"),
    ("misses of misses",
     lambda c: _misses_of(c, "late_callbacks"),
     "metrics.new_misses.of: late_callbacks is a misses metric, not a ratio"),
    ("misses of a ratio of two sources",
     lambda c: _misses_of(c, "complaints_per_1000_contacts"),
     "metrics.new_misses.of: complaints_per_1000_contacts's numerator and denominator read different rows"),
    ("misses of a ratio of sums",
     lambda c: _misses_of(c, "nps"),
     "metrics.new_misses.of: nps's numerator and denominator must both be agg: count"),
    ("misses of a ratio whose numerator leaves nothing out",
     lambda c: (c["metrics"].update(everything={**c["metrics"]["request_rate"], "numerator": {"source": "contacts", "agg": "count"}}),
                _misses_of(c, "everything")),
     "metrics.new_misses.of: everything's numerator has no filter, so it leaves out no rows"),
    ("misses of an unknown metric",
     lambda c: _misses_of(c, "sla_attainmnt"),
     "metrics.new_misses.of: unknown metric 'sla_attainmnt'"),
    ("misses without of",
     lambda c: _misses_of(c, "sla_attainment").pop("of"),
     "metrics.new_misses.of: required key is missing"),
    ("misses with a param of its own",
     lambda c: c["metrics"]["late_callbacks"].update(params={"business_days": 2}),
     "metrics.late_callbacks.params: a misses metric counts rows of the ratio it is `of`; it takes no params"),
    ("misses with a filter",
     lambda c: c["metrics"]["late_requests"].update(filter="status = 'closed'"),
     "metrics.late_requests.filter: a misses metric counts rows of the ratio it is `of`; it takes no filter"),
    ("of on a ratio",
     lambda c: c["metrics"]["sla_attainment"].update(of="csat"),
     "metrics.sla_attainment.of: only a type: misses metric names the ratio it is derived from"),
    ("the old observations key",
     lambda c: c["metrics"]["avg_handle_time"].update(type="ratio", observations=True),
     "metrics.avg_handle_time.observations: replaced by type: observed"),
    ("sides on an observed metric",
     lambda c: c["metrics"]["avg_handle_time"].update(numerator="offered_calls"),
     "metrics.avg_handle_time.numerator: not used by type: observed"),
    ("an unknown type",
     lambda c: _misses_of(c, "sla_attainment").update(type="miss"),
     "metrics.new_misses.type: 'miss' is not one of simple, ratio, observed, misses"),
]


@pytest.mark.parametrize("what, mutate, expected", BAD, ids=[b[0] for b in BAD])
def test_a_mistake_is_one_sentence_with_its_key_path(raw, what, mutate, expected):
    errors = errors_of(raw, mutate)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors
