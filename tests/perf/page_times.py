"""Time every page each role opens, cold (empty result cache) and warm (cached), with Streamlit's AppTest.

Run by `python -m metrics bench` in a child process (the metrics package never imports Streamlit):
    python tests/perf/page_times.py --db PATH [--config FILE]  → JSON list of {role, page, cold_s, warm_s, errors}
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def page_table() -> dict:
    """dashboard.PAGES, read from the source (importing dashboard.py would run it); its roles are metrics.access.Role
    members, the only name the table may use."""
    import ast

    from metrics.access import Role
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES")
    return eval(compile(ast.Expression(node.value), "dashboard.py", "eval"), {"__builtins__": {}, "Role": Role})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--config", help="config file (e.g. one with engine: spark)")
    args = ap.parse_args()
    os.environ["CX_DB"] = args.db
    if args.config:
        os.environ["CX_CONFIG"] = args.config
    os.environ["CX_WARM_UP"] = "0"          # measure cold pages, not a warm-up racing them
    import logging
    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest

    import app_cache

    out = []
    pages = page_table()
    for index, role in enumerate(("executive", "head", "staff", "admin")):
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
        at.run()
        at.radio[0].set_value(at.radio[0].options[index])
        at.button[0].click()
        at.run()
        for path, (title, _, roles) in pages.items():
            if role not in roles:
                continue
            at.switch_page(str(ROOT / path))
            app_cache.clear()
            t = time.perf_counter()
            at.run()
            cold = time.perf_counter() - t
            t = time.perf_counter()
            at.run()
            warm = time.perf_counter() - t
            out.append({"role": role, "page": title, "cold_s": cold, "warm_s": warm, "errors": len(at.exception)})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
