"""`python -m metrics bench [--rows N | --scale F]`: demo databases at growing sizes, each metric through the
metrics layer against hand-written SQL, every page per role cold and warm, the loader (bench_ingest.py) and
peak memory; with --engine spark, the same on Spark beside DuckDB.

Timings are printed as measured ratios, never asserted in tests (the machine decides the numbers).
"""
from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from metrics.access import SYSTEM
from metrics.catalogue.definitions import Config
from metrics.cli.bench_ingest import _peak_mb, bench_ingest
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.demo.build import build_demo_database
from metrics.ingest.loader import load_file
from metrics.sql import literal
from metrics.store.export import export_parquet


# --- python -m metrics bench [--rows N | --scale F] -------------------------------------------------------
DEMO_ROWS_PER_SCALE = 407_996          # contacts in the demo at scale 1
# The same aggregation written by hand, to measure what the metrics layer costs. Each returns
# (numerator, denominator, value) for the organisation over [$a, $b).
HAND = {
    "calls_offered": "SELECT count(*), NULL, count(*) FROM contacts WHERE channel = 'phone' AND received_at >= $a "
                     "AND received_at < $b",
    "grade_of_service": "SELECT count(*) FILTER (WHERE NOT abandoned AND wait_seconds <= 20), count(*), NULL FROM contacts "
                        "WHERE channel = 'phone' AND received_at >= $a AND received_at < $b "
                        "AND NOT (abandoned AND coalesce(wait_seconds, 0) < 5)",
    "abandonment_rate": "SELECT count(*) FILTER (WHERE abandoned), count(*), NULL FROM contacts WHERE channel = 'phone' "
                        "AND received_at >= $a AND received_at < $b AND NOT (abandoned AND coalesce(wait_seconds, 0) < 5)",
    "avg_speed_of_answer": "SELECT sum(wait_seconds), count(wait_seconds), avg(wait_seconds) FROM contacts "
                           "WHERE channel = 'phone' AND NOT abandoned AND received_at >= $a AND received_at < $b",
    "first_contact_resolution": "SELECT count(*) FILTER (WHERE resolved_first_contact), count(*), NULL FROM contacts "
                                "WHERE received_at >= $a AND received_at < $b",
    "referral_rate": "SELECT count(*) FILTER (WHERE referred), count(*), NULL FROM contacts WHERE received_at >= $a "
                     "AND received_at < $b",
    "sla_attainment": "SELECT count(*) FILTER (WHERE closed_at <= due_at), count(*), NULL FROM requests "
                      "WHERE requester_department_id IS NULL AND status = 'closed' AND due_at IS NOT NULL "
                      "AND closed_at >= $a AND closed_at < $b",
    "median_resolution_hours": "SELECT NULL, count(*), median(date_diff('second', created_at, closed_at) / 3600.0) "
                               "FROM requests WHERE requester_department_id IS NULL AND status = 'closed' "
                               "AND closed_at >= $a AND closed_at < $b",
    "callback_within_1_day": "SELECT count(*) FILTER (WHERE h.responded_at IS NOT NULL AND ce.bd_before - cs.bd_before <= 1), "
                             "count(*), NULL FROM handoffs h JOIN calendar cs ON cs.day = CAST(h.handed_at AS DATE) "
                             "LEFT JOIN calendar ce ON ce.day = CAST(h.responded_at AS DATE) "
                             "WHERE h.case_type = 'referral' AND h.handed_at >= $a AND h.handed_at < $b",
    "csat": "SELECT count(*) FILTER (WHERE csat >= 4), count(*), NULL FROM feedback WHERE kind = 'survey' "
            "AND source = 'customer' AND csat IS NOT NULL AND received_at >= $a AND received_at < $b",
    "nps": "SELECT sum(CASE WHEN nps >= 9 THEN 1 WHEN nps <= 6 THEN -1 ELSE 0 END), count(*), NULL FROM feedback "
           "WHERE source = 'customer' AND nps IS NOT NULL AND received_at >= $a AND received_at < $b",
    "complaints_per_1000_contacts": "SELECT (SELECT count(*) FROM feedback WHERE kind = 'complaint' AND received_at >= $a "
                                    "AND received_at < $b), (SELECT count(*) FROM contacts WHERE received_at >= $a "
                                    "AND received_at < $b), NULL",
    "paid_within_terms": "SELECT count(*) FILTER (WHERE date_diff('day', CAST(received_at AS DATE), CAST(paid_at AS DATE)) "
                         "<= terms_days), count(*), NULL FROM invoices WHERE paid_at >= $a AND paid_at < $b",
    "median_days_to_pay": "SELECT NULL, count(*), median(date_diff('day', CAST(received_at AS DATE), CAST(paid_at AS DATE))) "
                          "FROM invoices WHERE paid_at >= $a AND paid_at < $b",
    "open_backlog": "SELECT count(*), NULL, count(*) FROM requests WHERE created_at < $b AND (closed_at IS NULL "
                    "OR closed_at >= $b)",
}


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _best_pair(a, b, repeat: int = 15) -> tuple[float, float]:
    """The best time of each of two functions, run in turn `repeat` times: a 2-5 ms query varies by ±0.5 ms from
    one run to the next on a shared machine, and taking turns keeps a slow spell from landing on one side only."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        a()
        best_a = min(best_a, time.perf_counter() - t)
        t = time.perf_counter()
        b()
        best_b = min(best_b, time.perf_counter() - t)
    return best_a, best_b


def demo_db(config: Config, rows: int, folder: Path) -> tuple[Path, float | None]:
    """A demo database with about `rows` contacts, built once and reused; returns (path, seconds to build or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-{rows}.duckdb"
    if path.exists():
        return path, None
    t = time.perf_counter()
    build_demo_database(path, config, scale=rows / DEMO_ROWS_PER_SCALE)
    return path, time.perf_counter() - t


def bench_metrics(engine, period) -> list[dict]:
    """Each hand-written metric through the metrics layer and by hand: best of 15 each, taking turns, same numbers checked."""
    both = {"a": period.start_instant, "b": period.end_exclusive}
    out = []
    for key, sql in HAND.items():
        params = {k: v for k, v in both.items() if f"${k}" in sql}
        metric = engine.metric(key)
        mult = metric.multiplier if metric.type == "ratio" else 1.0
        ours = engine.value(SYSTEM, key, period=period, compare=False)
        n, d, v = engine.con.cursor().execute(sql, params).fetchone()
        if v is None and d:
            v = (n or 0) / d * mult
        same = all(_same(a, b) for a, b in ((ours.numerator, n), (ours.denominator, d), (ours.value, v)) if b is not None)
        t_ours, t_hand = _best_pair(lambda: engine.value(SYSTEM, key, period=period, compare=False),
                                    lambda: engine.con.cursor().execute(sql, params).fetchall())
        out.append({"metric": key, "metrics_layer_s": t_ours, "hand_sql_s": t_hand, "ratio": t_ours / t_hand,
                    "same_numbers": same})
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def bench_store(config: Config, db: Path, engine: str = "duckdb") -> dict:
    """The figure store on a copy of the database: a full build, then the rebuild after loading one month of contacts
    again through the loader (the last full month, exported and re-loaded as an update) and after a dashboard-style
    write to one table; each timed, with the number of queries, metrics recomputed and entries."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.duckdb"
        shutil.copy(db, copy)
        eng = Engine.open(copy, config, figure_store="wait", engine=engine)
        t = time.perf_counter()
        full = eng.refresh_figures()
        out = {"full_s": time.perf_counter() - t, "full_queries": full.queries, "entries": full.size(),
               "metrics": len(full.metric_versions), "size_mb": _store_mb(full)}
        month = eng.default_period()
        csv = Path(tmp) / "month.csv"
        with eng.con.cursor() as cur:
            cur.execute(f"COPY (SELECT * EXCLUDE (batch_id) FROM contacts WHERE received_at >= $a AND received_at < $b) "
                        f"TO {literal(str(csv))} (HEADER)", {"a": month.start_instant, "b": month.end_exclusive})
        loaded = load_file(eng.con, config, "contacts", csv, loaded_by="bench")
        t = time.perf_counter()
        after = eng.refresh_figures()
        if not loaded.ok:
            raise RuntimeError(f"the one-month load failed: {loaded.summary()}")
        out |= {"month_rows": loaded.rows_read, "month_s": time.perf_counter() - t, "month_queries": after.queries,
                "month_recomputed": len(after.recomputed)}
        eng.con.close()
    return out


def bench_spark_store(config: Config, spark_config: Config, spark_config_file: Path, db: Path) -> dict:
    """The figure store computed by Spark in batch over the export, kept in a copy of the database, against the
    one DuckDB computes from the same data (every figure compared exactly); then every page warm on Spark, served
    from the kept store."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "spark-store.duckdb"
        shutil.copy(db, copy)
        spark = Engine.open(copy, spark_config, figure_store="wait", engine="spark")
        t = time.perf_counter()
        built = spark.refresh_figures()
        out = {"spark_store_s": time.perf_counter() - t, "spark_store_queries": built.queries,
               "spark_store_entries": built.size(), "spark_store_save_s": spark.last_save_seconds}
        spark.con.close()
        duck = Engine(duckdb.connect(str(db), read_only=True), config, figure_store="wait")
        mine = duck.refresh_figures()
        duck.con.close()
        out["spark_store_differences"] = _store_differences(built, mine)
        pages = bench_pages(copy, spark_config_file)
        out["spark_pages_warm_max_s"] = max(p["warm_s"] for p in pages)
        out["spark_pages_errors"] = sum(p.get("errors", 0) for p in pages)
    return out


def _store_differences(a, b) -> int:
    """Figures that differ between two stores (either missing counts as a difference; NaN equals NaN)."""
    def figures_of(store):
        return {(m, u, p): fig for m, units in store.entries.items() for u, periods in units.items()
                for p, fig in periods.items()}
    fa, fb = figures_of(a), figures_of(b)
    return sum(1 for k in fa.keys() | fb.keys() if k not in fa or k not in fb
               or not all(_same(x, y) for x, y in zip(fa[k], fb[k])))


def _store_mb(store) -> float:
    """The store's entries' size in memory (keys, periods and figures), in MB."""
    seen, total = set(), 0
    for metric, units in store.entries.items():
        total += sys.getsizeof(units)
        for unit, periods in units.items():
            total += sys.getsizeof(periods) + (0 if id(unit) in seen else sys.getsizeof(unit))
            seen.add(id(unit))
            for key, fig in periods.items():
                total += sys.getsizeof(fig) + (0 if id(key) in seen else sys.getsizeof(key))
    return total / 1e6


def bench_pages(db: Path, config_file: Path | None = None) -> list[dict]:
    """Every page each role opens, cold and warm, timed in a child process (tests/perf/page_times.py)."""
    script = Path(__file__).resolve().parents[2] / "tests" / "perf" / "page_times.py"
    extra = ["--config", str(config_file)] if config_file else []
    res = subprocess.run([sys.executable, str(script), "--db", str(db), *extra], capture_output=True, text=True,
                         timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(f"page timing failed: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def spark_side(config: Config, db: Path, folder: Path) -> tuple[Config, Path, float]:
    """Export the database as Parquet for Spark (once per database) and write a config file with engine: spark;
    returns (config, config file, seconds the export took — 0 when reused)."""
    # Imported here, not at the top: the Spark side pulls in pyarrow and the SQL transpiler, which only
    # `bench --engine spark` needs.
    from metrics.compute.spark.facts import with_source, write_config
    pq = folder / f"{db.stem}.parquet"
    took = 0.0
    if not pq.exists() or pq.stat().st_mtime < db.stat().st_mtime:
        t = time.perf_counter()
        con = duckdb.connect(str(db), read_only=True)
        try:
            export_parquet(con, pq, force=True)
        finally:
            con.close()
        took = time.perf_counter() - t
    cfg_file = write_config(config, pq.resolve(), folder / f"{db.stem}.spark.yaml")
    return with_source(config, pq), cfg_file, took


def bench_spark_metrics(spark, duck, duck_rows: list[dict], period) -> None:
    """The same metrics on the Spark engine beside the DuckDB engine's (best of 3), checked for the same numbers."""
    for row in duck_rows:
        key = row["metric"]
        duck_fig = duck.value(SYSTEM, key, period=period, compare=False)
        ours = spark.value(SYSTEM, key, period=period, compare=False)
        row["spark_s"] = _best(lambda: spark.value(SYSTEM, key, period=period, compare=False))
        row["spark_vs_duckdb"] = row["spark_s"] / row["metrics_layer_s"]
        row["spark_same_numbers"] = all(_same(a, b) for a, b in ((ours.numerator, duck_fig.numerator),
                                                                 (ours.denominator, duck_fig.denominator),
                                                                 (ours.value, duck_fig.value)))


LOAD_SESSIONS = (10, 25)      # the load tests: this many people at once (issue 16's targets: p95 ≤ 1.5 s and ≤ 3 s)


def bench_serve(db: Path, *options: str) -> dict:
    """tests/perf/serve_bench.py in a child process (the server on one core, the clients on the other): with
    --views, the live server's CPU-seconds per page view; with --sessions N, N people at once and a load
    half-way."""
    script = Path(__file__).resolve().parents[2] / "tests" / "perf" / "serve_bench.py"
    res = subprocess.run([sys.executable, str(script), "--db", str(db), *options, "--json"],
                         capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(f"serve benchmark failed: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
    return json.loads(res.stdout[res.stdout.index("{"):])


def bench_all(config: Config, sizes: list[int], folder: Path, pages: bool = True, ingest: bool = True,
              engine: str = "duckdb", serve: bool = False, spark_sizes: set[int] | None = None) -> list[dict]:
    """The whole benchmark at each size: build or reuse the demo, metrics vs hand SQL, pages, ingest, memory.
    With engine 'spark', also the same metrics and pages on Spark over the exported Parquet, side by side (at the
    sizes in `spark_sizes` only, when given)."""
    results = []
    asked = engine
    for rows in sizes:
        engine = asked if spark_sizes is None or rows in spark_sizes else "duckdb"
        db, built = demo_db(config, rows, folder)
        eng = Engine.open(db, config, read_only=True)
        n = eng.read_store("SELECT count(*) AS n FROM contacts").iloc[0, 0]
        rng = eng.data_range()
        year = Period(rng[1].replace(month=1, day=1), rng[1])
        r = {"rows": int(n), "db": str(db), "build_s": built, "db_mb": db.stat().st_size / 1e6,
             "metrics": bench_metrics(eng, year), "engine": engine}
        spark_cfg_file = None
        if engine == "spark":
            spark_cfg, spark_cfg_file, r["export_s"] = spark_side(config, db, folder)
            t = time.perf_counter()
            seng = Engine.open(db, spark_cfg, read_only=True)
            r["spark_open_s"] = time.perf_counter() - t
            bench_spark_metrics(seng, eng, r["metrics"], year)
            seng.con.close()               # the page-timing child opens the database file itself
        eng.con.close()
        r["store"] = bench_store(config, db)
        if engine == "spark":
            r["store"] |= bench_spark_store(config, spark_cfg, spark_cfg_file, db)
        if pages:
            r["pages"] = bench_pages(db)
            if spark_cfg_file:
                spark_pages = {(p["role"], p["page"]): p for p in bench_pages(db, spark_cfg_file)}
                for p in r["pages"]:
                    sp = spark_pages.get((p["role"], p["page"]), {})
                    p["spark_cold_s"], p["spark_warm_s"] = sp.get("cold_s"), sp.get("warm_s")
                    p["errors"] += sp.get("errors", 0)
        if serve:
            r["serve"] = bench_serve(db, "--views", "--rounds", "3")
            r["load"] = [bench_serve(db, "--sessions", str(n)) for n in LOAD_SESSIONS]
        if ingest:
            r["ingest"] = bench_ingest(config, rows)
        r["peak_rss_mb"], r["peak_child_rss_mb"] = _peak_mb(), _child_peak_mb()
        results.append(r)
    return results


def print_all(results: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(results, indent=2, default=str))
        return
    for r in results:
        print(f"\n=== {r['rows']:,} contacts ({r['db_mb']:,.0f} MB database"
              + (f", built in {r['build_s']:.0f} s" if r["build_s"] else ", reused") + ") ===")
        spark = r.get("engine") == "spark"
        if spark:
            print(f"Spark: export to Parquet {r['export_s']:.1f} s" + (" (reused)" if not r["export_s"] else "")
                  + f", session start and table registration {r['spark_open_s']:.1f} s")
        print("metrics layer vs hand-written SQL, one year, organisation (best of 15, taking turns; target ratio ≤ 1.3)"
              + (", and the same metric on Spark:" if spark else ":"))
        for m in r["metrics"]:
            side = (f"  spark {m['spark_s'] * 1000:8.1f} ms (×{m['spark_vs_duckdb']:.1f} DuckDB"
                    f"{', same' if m['spark_same_numbers'] else ', NUMBERS DIFFER'})") if spark else ""
            print(f"  {m['metric']:<30} {m['metrics_layer_s'] * 1000:8.1f} ms  {m['hand_sql_s'] * 1000:8.1f} ms  "
                  f"ratio {m['ratio']:5.2f}  {'same numbers' if m['same_numbers'] else 'NUMBERS DIFFER'}{side}")
        worst = max(r["metrics"], key=lambda m: m["ratio"])
        print(f"  worst ratio {worst['ratio']:.2f} ({worst['metric']})")
        if "pages" in r:
            print("pages, cold (empty result cache) / warm (cached); targets ≤ 2 s / ≤ 250 ms:")
            for p in r["pages"]:
                flag = "" if p["cold_s"] <= 2 and p["warm_s"] <= 0.25 else "  ← over target"
                side = (f"   spark {p['spark_cold_s'] * 1000:8.0f} ms  {p['spark_warm_s'] * 1000:7.0f} ms"
                        if p.get("spark_cold_s") is not None else "")
                print(f"  {p['role']:<10} {p['page']:<24} {p['cold_s'] * 1000:8.0f} ms  {p['warm_s'] * 1000:7.0f} ms"
                      f"{side}{'  ERRORS' if p['errors'] else ''}{flag}")
        if "store" in r:
            s = r["store"]
            print(f"figure store: full build {s['full_s']:.1f} s ({s['full_queries']} queries, {s['metrics']} metrics, "
                  f"{s['entries']:,} figures, {s['size_mb']:.0f} MB in memory; target ≤ 60 s at 10 M); after loading one "
                  f"month again ({s['month_rows']:,} contacts) {s['month_s']:.1f} s ({s['month_recomputed']} metrics "
                  f"recomputed, {s['month_queries']} queries; target ≤ 10 s)")
            if "spark_store_s" in s:
                print(f"figure store on Spark: built in batch in {s['spark_store_s']:.1f} s ({s['spark_store_queries']} "
                      f"queries, {s['spark_store_entries']:,} figures), kept in the file in {s['spark_store_save_s']:.1f} s; "
                      f"{s['spark_store_differences']} figures differ from DuckDB's; every page warm on Spark ≤ "
                      f"{s['spark_pages_warm_max_s']:.2f} s (target ≤ 0.5 s), {s['spark_pages_errors']} errors")
        if "serve" in r:
            v = r["serve"]
            print("server CPU-seconds per page view (server on one core, browser on the other), first visit / warm; "
                  "targets: warm median ≤ 0.05 s, worst ≤ 0.15 s:")
            last = max(x["round"] for x in v["rows"])
            warm = {(x["role"], x["page"]): x for x in v["rows"] if x["round"] == last}
            for x in (x for x in v["rows"] if x["round"] == 0):
                print(f"  {x['role']:<10} {x['page']:<24} {x['cpu_s']:6.3f} s  {warm[(x['role'], x['page'])]['cpu_s']:6.3f} s")
            print(f"  warm median {v['warm_median_cpu_s']:.3f} s, worst {v['warm_worst_cpu_s']:.3f} s "
                  f"({v['warm_worst_page']}); first-visit mean {v['first_round_mean_cpu_s']:.3f} s; errors {v['errors']}; "
                  f"server peak RSS {v['server_peak_rss_mb']:,.0f} MB")
            print(f"  net of the idle server ({v['idle_cpu_per_s'] * 1000:.1f} ms CPU per s): warm median "
                  f"{v['warm_median_net_cpu_s']:.3f} s, worst {v['warm_worst_net_cpu_s']:.3f} s ({v['warm_worst_net_page']})")
        for v in r.get("load", []):
            target = 1.5 if v["sessions"] <= 10 else 3.0
            print(f"{v['sessions']} people at once (Streamlit's protocol, 2 s between clicks, a load half-way; target p95 "
                  f"≤ {target:g} s): {v['pages_served']} pages, p50 {v['p50_s']:.2f} s, p95 {v['p95_s']:.2f} s, max "
                  f"{v['max_s']:.2f} s; errors {len(v['errors'])}; server RSS {v['server_peak_rss_mb']:,.0f} MB; server "
                  f"core {v['core_busy'].get('cpu0', 0):.0%} busy; per script run p50 {v['server_run_p50_s']:.2f} s, p95 "
                  f"{v['server_run_p95_s']:.2f} s")
            seen = v.get("load_visible_after_s")
            print(f"  the load committed: {v['load_committed']}; its figures served {'–' if seen is None else f'{seen:.1f} s'} "
                  f"after it; pages started after that with the old state: {v['pages_started_after_load_with_old_stamp']}")
        if "ingest" in r:
            i = r["ingest"]
            print(f"ingest: validated load {i['load_rows_per_s']:,.0f} rows/s vs bare read_csv "
                  f"{i['bare_rows_per_s']:,.0f} rows/s → ratio {i['ratio']:.2f} (target ≥ 0.50)")
        print(f"peak memory: this process {r['peak_rss_mb']:,.0f} MB, page-timing child {r['peak_child_rss_mb']:,.0f} MB")
    if len(results) > 1:
        print("\nhow time grows with size:")
        base = results[0]
        for r in results:
            ms = sum(m["metrics_layer_s"] for m in r["metrics"])
            cold = sum(p["cold_s"] for p in r.get("pages", []))
            base_cold = sum(p["cold_s"] for p in base.get("pages", []))
            sp = sum(m.get("spark_s", 0) for m in r["metrics"])
            spark_note = f"  spark {sp * 1000:8.0f} ms (spark/duckdb ×{sp / ms:.1f})" if sp else ""
            pages_note = f"  pages cold {cold:6.1f} s (×{cold / base_cold:.1f})" if cold and base_cold else ""
            print(f"  {r['rows']:>12,} contacts  metrics {ms * 1000:8.0f} ms (×{ms / sum(m['metrics_layer_s'] for m in base['metrics']):.1f})"
                  f"{spark_note}{pages_note}  rows ×{r['rows'] / base['rows']:.1f}")
