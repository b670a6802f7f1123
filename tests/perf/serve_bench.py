"""Many people at once: the real dashboard under N simultaneous sessions.

    python tests/perf/serve_bench.py --db data/bench/demo-10000000.duckdb [--sessions 10] [--browsers] [--json]
    python tests/perf/serve_bench.py --db data/cx.duckdb --views      # server CPU-seconds per page view

Starts `streamlit run dashboard.py` on loopback against a copy of the database (the server pinned to one core),
then N people at once, each signing in as one of the demo personas (roles in turn) and opening every page of its
navigation with a pause between clicks. By default each person speaks Streamlit's websocket protocol
(protocol_client.py: the messages a browser tab sends, timed from the click's message to the run's end), so the
test measures the server and not how fast one core can draw 25 browsers' charts; `--browsers` drives real
Chromium tabs (pinned to the other core) instead. Half-way through, an administrator in a browser loads a small
invoices file on the Data page. Reports p50/p95/max per page, errors (tracebacks or exception boxes on a page),
the server's peak RSS and its own time per script run, and checks that every page started after the load shows
the load ("last loaded" moved on) while no page ever shows a figure from a state other than the one its own
"last loaded" line names.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PERSONAS = {"Executive": "executive", "Head of department": "head", "Staff member": "staff", "Administrator": "admin"}
BAD = ("Traceback", "Error:", "Exception")


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def render(page, started: str | None = None) -> None:
    """Wait for the page's run to finish: when a click started it, first see the run begin (up to 3 s), so the
    previous page's text is never taken for the new one."""
    if started:                                   # wait until the previous page's heading is gone
        await page.wait_for_function("(old) => { const h = document.querySelector('h1');"
                                     " return h && h.innerText !== old; }", arg=started, timeout=180_000)
    await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    await page.get_by_role("heading", level=1).first.wait_for(timeout=120_000)
    await page.wait_for_timeout(300)


PAUSE = 2.0          # seconds a person reads a page before the next click (--pause)


async def session(browser, url: str, persona: str, record: list, errors: list, loaded: dict) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1600})
    ctx.set_default_timeout(180_000)       # a 2-core machine under ten sessions: wait, and measure the wait
    page = await ctx.new_page()
    try:
        await page.goto(url, timeout=120_000)
        await page.get_by_text(persona).first.click()
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="Sign out").wait_for(timeout=120_000)
        sys.path.insert(0, str(Path(__file__).parent))
        from page_times import page_table
        links = [title for title, _, roles in page_table().values() if PERSONAS[persona] in roles]
        for title in links:
            link = page.get_by_role("link", name=title).first
            target = (await link.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[-1]
            here = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            old = await page.locator("h1").first.inner_text() if target != here else None
            await asyncio.sleep(PAUSE)
            t = time.perf_counter()
            await link.click()
            await render(page, started=old)
            took = time.perf_counter() - t
            text = await page.locator("[data-testid='stMain']").first.inner_text()
            stamp = next((line for line in text.splitlines() if "last loaded" in line), "")
            record.append({"persona": persona, "page": title, "seconds": took, "at": time.time(), "stamp": stamp})
            if any(w in text for w in BAD):
                errors.append(f"{persona} / {title}: {text[:200]!r}")
    except Exception as exc:           # a page that never rendered is an error, not a crash of the run
        errors.append(f"{persona}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await ctx.close()


async def person(url: str, persona: str, record: list, errors: list, loaded: dict, start: float = 0.0) -> None:
    """The same person as `session`, speaking Streamlit's websocket protocol instead of driving a browser
    (protocol_client): signs in as `persona` and opens every page of the navigation, PAUSE s apart, timing each
    click from the message sent to the run's end. Starts after `start` s, so that people do not all click in step."""
    from protocol_client import Session
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    tab = None
    try:
        await asyncio.sleep(start)
        tab = await Session.open(url)
        first = await tab.rerun()
        radio_id, radio = first.widgets["Sign in as"]
        label = next(o for o in radio.options if o.startswith(persona))
        signed = await tab.rerun(widgets=[WidgetState(id=radio_id, string_value=label),
                                          WidgetState(id=first.widgets["Sign in"][0], trigger_value=True)])
        if "Sign out" not in signed.widgets:
            raise RuntimeError(f"sign-in as {persona} did not reach a signed-in page")
        from page_times import page_table
        for title in [t for t, _, roles in page_table().values() if PERSONAS[persona] in roles]:
            await asyncio.sleep(PAUSE)
            run = await tab.rerun(page=title)
            stamp = run.line_with("last loaded")
            record.append({"persona": persona, "page": title, "seconds": run.seconds, "at": time.time(), "stamp": stamp})
            bad = run.exceptions or [t for t in run.texts if any(w in t for w in BAD)]
            if bad:
                errors.append(f"{persona} / {title}: {bad[0][:200]!r}")
    except Exception as exc:           # a page that never finished is an error, not a crash of the run
        errors.append(f"{persona}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        if tab is not None:
            await tab.close()


async def load_during(browser, url: str, csv: Path, loaded: dict, errors: list) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1600})
    ctx.set_default_timeout(180_000)
    page = await ctx.new_page()
    try:
        await asyncio.sleep(3)
        await page.goto(url, timeout=120_000)
        await page.get_by_text("Administrator").first.click()
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="Sign out").wait_for(timeout=120_000)
        await page.get_by_role("link", name="Data").first.click()
        await page.get_by_text("Load an export").first.wait_for(timeout=120_000)
        await page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").nth(1).click()
        await page.get_by_role("option", name="invoices", exact=True).click()
        await render(page)                     # the run the choice started is over: the uploader stays put
        await page.locator("input[type='file']").first.set_input_files(str(csv))
        await page.get_by_text(csv.name).first.wait_for(timeout=120_000)
        await render(page)
        await page.get_by_role("button", name="Load", exact=True).click()
        await page.get_by_text("inserted 1, updated 0").first.wait_for(timeout=120_000)
        loaded["at"] = time.time()
    except Exception as exc:
        errors.append(f"load: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        if os.environ.get("SERVE_DEBUG"):        # what the page showed when it failed
            await page.screenshot(path=Path(tempfile.gettempdir()) / "serve-load-failed.png", full_page=True)
    finally:
        await ctx.close()


def core_busy() -> dict[str, tuple[int, int]]:
    """Each CPU's (busy, total) jiffies from /proc/stat."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *v = line.split()
            v = [int(x) for x in v]
            out[name] = (sum(v) - v[3] - v[4], sum(v))
    return out


async def drive(url: str, sessions: int, csv: Path, pid: int, browsers: bool) -> dict:
    """`sessions` people at once — simulated over the protocol, or real Chromium tabs with `browsers` — and one
    administrator (always a browser) committing a load half-way."""
    from playwright.async_api import async_playwright
    sys.path.insert(0, str(Path(__file__).parent))
    one = session if browsers else (lambda _browser, *a, **k: person(*a, **k))
    record, errors, loaded = [], [], {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        await first_visit(browser, url, pid)         # the server is up and its figure store built, as on a Monday
        before, cpu0, started = core_busy(), cpu_seconds(pid), time.time()
        t = time.perf_counter()
        names = list(PERSONAS)
        starts = {} if browsers else {i: {"start": i * PAUSE / sessions} for i in range(sessions)}   # out of step
        await asyncio.gather(*(one(browser, url, names[i % len(names)], record, errors, loaded, **starts.get(i, {}))
                               for i in range(sessions)), load_during(browser, url, csv, loaded, errors))
        wall = time.perf_counter() - t
        after, cpu1 = core_busy(), cpu_seconds(pid)
        busy = {c: (after[c][0] - before[c][0]) / max(1, after[c][1] - before[c][1]) for c in after}
        # After every session is done: a fresh session must see the load on its first page.
        after_load: list = []
        await one(browser, url, "Executive", after_load, errors, loaded)
        await browser.close()
    return {"record": record, "errors": errors, "loaded_at": loaded.get("at"), "after": after_load, "wall_s": wall,
            "core_busy": busy, "server_cpu_s": cpu1 - cpu0, "started_at": started}


SERVER_CORE, BROWSER_CORE = "0", "1"     # the server on one core, the browsers on the other (taskset)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def serve(db: Path, server_args: list[str]):
    """`streamlit run dashboard.py` on loopback (reading .streamlit/config.toml, as `make run` does), pinned to
    SERVER_CORE when taskset is there; yields (url, pid)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import streamlit_server
    pin = ("taskset", "-c", SERVER_CORE) if shutil.which("taskset") else ()
    server, url = streamlit_server.start({**os.environ, "CX_DB": str(db), "CX_RUN_LOG": str(db) + ".runs"},
                                         tuple(server_args), pin, timeout=120)
    try:
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def quiet(pid: int, window: float = 2.0, limit: float = 300.0) -> None:
    """Wait until the server has gone idle (under 5 % of a core over `window` s): start-up and the figure store's
    first build are done, so page views are measured on their own."""
    deadline = time.time() + limit
    while time.time() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < 0.05 * window:
            return


IDLE_WINDOW = 10.0      # seconds over which the idle server's own CPU use is measured


async def first_visit(browser, url: str, pid: int) -> float:
    """Open the sign-in page once (the first run opens the database and starts the figure store's build), wait for
    the server to go quiet, and return its idle CPU use (CPU-s per s): Streamlit polls its config files every
    0.2 s whatever happens, which is no page's cost."""
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await page.goto(url, timeout=120_000)
    await page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    await ctx.close()
    quiet(pid)
    before = cpu_seconds(pid)
    await asyncio.sleep(IDLE_WINDOW)
    return (cpu_seconds(pid) - before) / IDLE_WINDOW


def pin_browsers() -> None:
    """This process and the Chromium it starts run on BROWSER_CORE, away from the server's."""
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {int(BROWSER_CORE)})


async def page_views(url: str, pid: int, rounds: int, settle: float) -> tuple[list[dict], float]:
    """One person at a time clicks through every page of every role, `rounds` times; the server's CPU time is read
    before each click and after the page has rendered and the server has gone quiet (`settle` s). Each view's
    `net_cpu_s` takes off the idle server's CPU over the same wall time. Returns the views and the idle rate."""
    from playwright.async_api import async_playwright
    sys.path.insert(0, str(Path(__file__).parent))
    from page_times import page_table
    out = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        idle = await first_visit(browser, url, pid)
        for persona, role in PERSONAS.items():
            ctx = await browser.new_context(viewport={"width": 1400, "height": 1600})
            ctx.set_default_timeout(180_000)
            page = await ctx.new_page()
            await page.goto(url, timeout=120_000)
            await page.get_by_text(persona).first.click()
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("button", name="Sign out").wait_for(timeout=120_000)
            links = [title for title, _, roles in page_table().values() if role in roles]
            for n in range(rounds):
                for title in links:
                    link = page.get_by_role("link", name=title).first
                    old = await page.locator("h1").first.inner_text()
                    await asyncio.sleep(settle)
                    before, t = cpu_seconds(pid), time.perf_counter()
                    await link.click()
                    await render(page, started=old if title != old else None)
                    took = time.perf_counter() - t
                    await asyncio.sleep(settle)
                    cpu, window = cpu_seconds(pid) - before, time.perf_counter() - t
                    text = await page.locator("[data-testid='stMain']").first.inner_text()
                    out.append({"role": role, "page": title, "round": n, "cpu_s": cpu,
                                "net_cpu_s": max(0.0, cpu - idle * window), "seconds": took, "rss_mb": rss_mb(pid),
                                "error": any(w in text for w in BAD)})
            await ctx.close()
        await browser.close()
    return out, idle


@contextlib.contextmanager
def profiled(pid: int, args):
    """With --profile: py-spy samples the server (100 per second, raw stacks) for the duration."""
    spy = (subprocess.Popen([args.profile_with, "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
                             "--nonblocking", "--output", args.profile], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL) if args.profile else None)
    try:
        yield
    finally:
        if spy:
            spy.send_signal(2)
            spy.wait(timeout=60)


def views_main(args) -> None:
    """--views: server CPU-seconds per page view, per role and page (the capacity figure)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "serve.duckdb"
        shutil.copy(args.db, db)
        with serve(db, args.server_arg) as (url, pid):
            pin_browsers()
            with profiled(pid, args):
                rows, idle = asyncio.run(page_views(url, pid, args.rounds, args.settle))
            peak = peak_rss_mb(pid)
    warm = [r for r in rows if r["round"] == args.rounds - 1]
    first = [r for r in rows if r["round"] == 0]
    med = statistics.median(r["cpu_s"] for r in warm)
    worst = max(warm, key=lambda r: r["cpu_s"])
    net_med = statistics.median(r["net_cpu_s"] for r in warm)
    net_worst = max(warm, key=lambda r: r["net_cpu_s"])
    report = {"page_views": len(rows), "warm_median_cpu_s": med, "warm_worst_cpu_s": worst["cpu_s"],
              "warm_worst_page": f"{worst['role']} / {worst['page']}", "idle_cpu_per_s": idle,
              "warm_median_net_cpu_s": net_med, "warm_worst_net_cpu_s": net_worst["net_cpu_s"],
              "warm_worst_net_page": f"{net_worst['role']} / {net_worst['page']}",
              "first_round_mean_cpu_s": statistics.mean(r["cpu_s"] for r in first),
              "errors": sum(r["error"] for r in rows), "server_peak_rss_mb": peak, "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"server CPU per page view over {len(rows)} views ({args.rounds} rounds of every page of every role; "
          f"server on core {SERVER_CORE}, browser on core {BROWSER_CORE}):")
    for r in warm:
        f = next(x for x in first if x["role"] == r["role"] and x["page"] == r["page"])
        print(f"  {r['role']:<10} {r['page']:<24} first {f['cpu_s']:6.3f} s   last round {r['cpu_s']:6.3f} s "
              f"(net of idle {r['net_cpu_s']:6.3f} s)  ({r['seconds']:.2f} s to render){'  ERROR' if r['error'] else ''}")
    print(f"last round: median {med:.3f} s, worst {worst['cpu_s']:.3f} s ({report['warm_worst_page']}); first round mean "
          f"{report['first_round_mean_cpu_s']:.3f} s; errors {report['errors']}; server peak RSS {peak:,.0f} MB, "
          f"RSS after each view {min(r['rss_mb'] for r in rows):,.0f}–{max(r['rss_mb'] for r in rows):,.0f} MB")
    print(f"idle server: {idle * 1000:.1f} ms of CPU per second (Streamlit's config polling); net of it, last round: "
          f"median {net_med:.3f} s, worst {net_worst['net_cpu_s']:.3f} s ({report['warm_worst_net_page']})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--pause", type=float, default=PAUSE, help="seconds each person waits between clicks")
    ap.add_argument("--browsers", action="store_true", help="drive real Chromium tabs instead of protocol clients")
    ap.add_argument("--views", action="store_true", help="server CPU-seconds per page view, one person at a time")
    ap.add_argument("--rounds", type=int, default=2, help="with --views: times through every page")
    ap.add_argument("--settle", type=float, default=0.5, help="with --views: seconds to let the server go quiet")
    ap.add_argument("--server-arg", action="append", default=[], help="extra `streamlit run` option (repeatable)")
    ap.add_argument("--profile", help="write py-spy's raw samples of the server here")
    ap.add_argument("--profile-with", default="py-spy", help="the py-spy executable (e.g. from a scratch venv)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    globals()["PAUSE"] = args.pause
    if args.views:
        views_main(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "serve.duckdb"
        shutil.copy(args.db, db)
        csv = Path(tmp) / "invoice.csv"
        csv.write_text("invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,"
                       "approved_at,paid_at,amount,terms_days\nSERVE1,SUP1,One,false,false,finance_payables,"
                       "2025-11-01 09:00:00,2025-11-05 09:00:00,2025-12-11 09:00:00,10.00,30\n")
        with serve(db, args.server_arg) as (url, pid):
            pin_browsers()
            with profiled(pid, args):
                out = asyncio.run(drive(url, args.sessions, csv, pid, args.browsers))
            rss = peak_rss_mb(pid)
        lines = [line.split("\t") for line in Path(str(db) + ".runs").read_text().splitlines()]
        runs = [(float(w), float(c)) for at, w, c, _, _ in lines if float(at) >= out["started_at"]]
        # When the load's figures became visible: the end of the first run that served a state other than the
        # one served before the test (every run started after it serves the new state or a newer one).
        before = next((mark for at, *_, mark in lines if float(at) >= out["started_at"]), None)
        shown_at = min((float(at) for at, *_, mark in lines if float(at) >= out["started_at"] and mark != before),
                       default=None)
    times = sorted(r["seconds"] for r in out["record"])
    stamps = {r["stamp"] for r in out["record"] if r["stamp"]}
    after_stamp = out["after"][0]["stamp"] if out["after"] else ""
    late = [r for r in out["record"] if shown_at and r["at"] - r["seconds"] > shown_at]
    report = {"sessions": args.sessions, "pages_served": len(times), "errors": out["errors"],
              "p50_s": statistics.median(times) if times else None,
              "p95_s": times[int(0.95 * (len(times) - 1))] if times else None, "max_s": times[-1] if times else None,
              "wall_s": out["wall_s"], "server_peak_rss_mb": rss, "core_busy": out["core_busy"],
              "server_cpu_per_page_s": out["server_cpu_s"] / max(1, len(times)),
              "server_run_p50_s": statistics.median(w for w, _ in runs) if runs else None,
              "server_run_p95_s": sorted(w for w, _ in runs)[int(0.95 * (len(runs) - 1))] if runs else None,
              "server_run_max_s": max(w for w, _ in runs) if runs else None, "server_runs": len(runs), "load_committed": out["loaded_at"] is not None,
              "stamps_seen": sorted(stamps), "after_load_stamp": after_stamp,
              "load_visible_after_s": shown_at - out["loaded_at"] if shown_at and out["loaded_at"] else None,
              "pages_started_after_load_with_old_stamp": sum(1 for r in late if r["stamp"] and r["stamp"] != after_stamp)}
    if os.environ.get("SERVE_DEBUG"):
        print("loaded at", out["loaded_at"])
        for r in sorted(out["record"], key=lambda r: r["at"] - r["seconds"]):
            print(round(r["at"] - r["seconds"] - (out["loaded_at"] or 0), 1), round(r["seconds"], 1), r["persona"], r["page"],
                  r["stamp"][-20:])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        fmt = lambda v: "–" if v is None else f"{v:.2f} s"  # noqa: E731
        print(f"{args.sessions} simultaneous sessions, {len(times)} pages served in {out['wall_s']:.0f} s: "
              f"p50 {fmt(report['p50_s'])}, p95 {fmt(report['p95_s'])}, max {fmt(report['max_s'])}; "
              f"errors {len(out['errors'])}; server peak RSS {rss:,.0f} MB")
        print("cores busy during the run: " + ", ".join(f"{c} {b:.0%}" for c, b in sorted(out["core_busy"].items()))
              + f" (server on cpu{SERVER_CORE}, browsers on cpu{BROWSER_CORE}); server CPU per page "
              f"{report['server_cpu_per_page_s']:.3f} s; server-side time per script run (start to finish, "
              f"{report['server_runs']} runs): p50 {fmt(report['server_run_p50_s'])}, p95 {fmt(report['server_run_p95_s'])}, "
              f"max {fmt(report['server_run_max_s'])}")
        seen = report["load_visible_after_s"]
        print(f"load during the test committed: {report['load_committed']}; its figures served "
              f"{'–' if seen is None else f'{seen:.1f} s'} after it (the store's build); a page run after it shows "
              f"{after_stamp!r}; pages started after that still showing the old state: "
              f"{report['pages_started_after_load_with_old_stamp']}")
        for e in out["errors"]:
            print("  error:", e)


if __name__ == "__main__":
    main()
