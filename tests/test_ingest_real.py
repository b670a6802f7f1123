"""The five real exports load through their shipped profiles, and the figures the product then reports
equal figures computed here straight from the raw files with the csv module."""
import csv
import datetime as dt
import statistics
from pathlib import Path

import pytest

from metrics.access import SYSTEM
from metrics.features.peers import peer_medians
from metrics.compute.engine import Engine
from metrics.ingest.loader import load_file
from metrics.compute.periods import Period
from metrics.ingest.profiles import load_profile
from metrics.catalogue.scope import Scope
from metrics.store.database import connect

EXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
FILES = {"bank": ("contacts", EXT / "anonymous-bank-callcentre-1999-02/data_anonymous_bank_february.txt", "bank_callcentre"),
         "boston": ("requests", EXT / "boston-311-graffiti-2015/graffiti_removal_2015.csv", "boston_311"),
         "ibm": ("invoices", EXT / "ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv", "ibm_receivables"),
         "nhs": ("feedback", EXT / "nhs-fft-patient-feedback/v6framework_230831.csv", "nhs_fft"),
         "oflog": ("benchmarks", EXT / "oflog-asc-benchmark/ASC_data.csv", "oflog_benchmark")}


@pytest.fixture(scope="module")
def loaded(config, tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("real") / "real.duckdb", config, create=True)
    results = {k: load_file(con, config, t, f, load_profile(p)) for k, (t, f, p) in FILES.items()}
    yield Engine(con, config), results
    con.close()


def rows(path, **kw):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, **kw))


@pytest.mark.parametrize("name", list(FILES))
def test_each_export_loads(loaded, name):
    r = loaded[1][name]
    assert r.ok and r.batch_id is not None, r.problems


def test_bank_calls(loaded):
    raw = [r for r in rows(FILES["bank"][1], delimiter="\t") if r["outcome"] != "PHANTOM"]
    r = loaded[1]["bank"]
    assert r.dropped == {"unexplained record (PHANTOM)": 33_344 - len(raw)}
    # Our definitions: abandons under 5 s leave both sides; answered within 20 s counts for grade of service.
    offered = [c for c in raw if not (c["outcome"] == "HANG" and int(c["q_time"]) < 5)]
    abandoned = [c for c in offered if c["outcome"] == "HANG"]
    quick = [c for c in offered if c["outcome"] == "AGENT" and int(c["q_time"]) <= 20]
    feb = Period(dt.date(1999, 2, 1), dt.date(1999, 2, 28))
    engine = loaded[0]
    ab = engine.value(SYSTEM, "abandonment_rate", Scope("team", "cc_phones"), feb, compare=False)
    assert (ab.numerator, ab.denominator) == (len(abandoned), len(offered))
    gos = engine.value(SYSTEM, "grade_of_service", Scope("team", "cc_phones"), feb, compare=False)
    assert gos.numerator == len(quick)
    # A call whose service starts after midnight is answered on the next day.
    crossing = [c for c in raw if c["outcome"] == "AGENT" and
                dt.datetime.strptime(c["ser_start"], "%H:%M:%S") < dt.datetime.strptime(c["vru_entry"], "%H:%M:%S")]
    late = engine.read_store("SELECT count(*) AS n FROM contacts WHERE CAST(answered_at AS DATE) > CAST(received_at AS DATE)")
    assert late.iloc[0, 0] == len(crossing)


def test_boston_requests_closed_on_time(loaded):
    fmt = "%m/%d/%Y %I:%M:%S %p"
    raw = rows(FILES["boston"][1])
    closed = [r for r in raw if r["CASE_STATUS"] == "Closed" and r["CLOSED_DT"] and r["TARGET_DT"]]
    on_time = [r for r in closed if dt.datetime.strptime(r["CLOSED_DT"], fmt) <= dt.datetime.strptime(r["TARGET_DT"], fmt)]
    year = Period(dt.date(2015, 1, 1), dt.date(2016, 1, 31))
    sla = loaded[0].value(SYSTEM, "sla_attainment", period=year, compare=False)
    assert (sla.numerator, sla.denominator) == (len(on_time), len(closed))


def test_ibm_median_days_to_settle(loaded):
    raw = rows(FILES["ibm"][1])
    expected = statistics.median(int(r["DaysToSettle"]) for r in raw)
    r = loaded[0].value(SYSTEM, "median_days_to_pay", period=Period(dt.date(2012, 1, 1), dt.date(2014, 12, 31)),
                        compare=False)
    assert (r.value, r.denominator) == (expected, len(raw))
    # Leading zeros of invoice numbers survive.
    assert loaded[0].read_store("SELECT count(*) FROM invoices WHERE invoice_id LIKE '0%'").iloc[0, 0] == \
        sum(r["invoiceNumber"].startswith("0") for r in raw)


def test_nhs_share_good_or_very_good(loaded):
    raw = rows(FILES["nhs"][1])
    scored = [r for r in raw if r["FFT categorical answer"] in ("1", "2", "3", "4", "5")]
    good = [r for r in scored if r["FFT categorical answer"] in ("1", "2")]
    r = loaded[0].value(SYSTEM, "csat", period=Period(dt.date(2015, 1, 1), dt.date(2025, 12, 31)), compare=False)
    assert (r.numerator, r.denominator) == (len(good), len(scored))
    # The M/DD/YYYY rows parsed as such: 9/30/2022 is 30 September.
    assert loaded[0].read_store("SELECT count(*) FROM feedback WHERE CAST(received_at AS DATE) = DATE '2022-09-30'").iloc[0, 0] > 0


def test_oflog_medians_match_the_published_ones(loaded):
    raw = rows(FILES["oflog"][1])
    published = {(r["Code"], r["Financial year"]): float(r["MEDIAN"]) for r in raw if r["MEDIAN"]}
    ours = peer_medians(loaded[0], SYSTEM, source="Oflog adult social care")
    got = {(m, p): v for m, p, v in zip(ours["metric_key"], ours["period"], ours["median"])}
    assert len(published) == 42 and set(got) == set(published)
    # Relative 1e-9, not exact: the file prints some values rounded (e.g. ASC6 2020-21's middle value
    # 1608.283763) while the publisher's medians used the unrounded figures (up to 1.8e-11 relative).
    for key, value in published.items():
        assert got[key] == pytest.approx(value, rel=1e-9), key


def test_the_benchmark_page_reproduces_every_published_median(loaded):
    """The benchmark view (quartiles, ranks) uses the same cohort median as the publisher, per measure and year."""
    from metrics.features.peers import benchmark
    raw = rows(FILES["oflog"][1])
    published = {(r["Code"], r["Financial year"]): float(r["MEDIAN"]) for r in raw if r["MEDIAN"]}
    seen = 0
    for code in sorted({c for c, _ in published}):
        df = benchmark(loaded[0], SYSTEM, code, source="Oflog adult social care")
        for period, median in zip(df["period"], df["median"]):
            assert median == pytest.approx(published[(code, period)], rel=1e-9), (code, period)
            seen += 1
    assert seen == len(published) == 42
