"""Killing the loader in the middle of a large load leaves the database exactly as it was."""
import hashlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def checksums(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{n}"').fetchall() for n in names}
    finally:
        con.close()


def test_killed_load_leaves_the_database_as_it_was(demo_db, tmp_path):
    db = tmp_path / "kill.duckdb"
    shutil.copy(demo_db, db)
    big = tmp_path / "big.csv"
    duckdb.connect().execute(f"""COPY (SELECT 'K' || i AS contact_id, 'phone' AS channel,
            TIMESTAMP '2024-01-01' + i * INTERVAL 1 SECOND AS received_at, NULL AS answered_at, false AS abandoned,
            10.0 AS wait_seconds, 'cc_phones' AS department_id, NULL AS staff_id, true AS resolved_first_contact,
            NULL AS request_id, false AS referred, NULL AS customer_id FROM range(2000000) t(i)) TO '{big}' (HEADER)""")
    before = checksums(db)
    command = [sys.executable, "-m", "metrics", "load", "contacts", str(big), "--db"]
    # How long does the whole load take here? (on a copy)
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    t = time.perf_counter()
    subprocess.run(command + [str(copy)], cwd=ROOT, check=True, capture_output=True)
    full = time.perf_counter() - t
    startup = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import metrics.cli"], cwd=ROOT, check=True)
    startup = time.perf_counter() - startup
    # Now kill the same load well inside its work: after start-up, halfway through the rest.
    p = subprocess.Popen(command + [str(db)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(startup + (full - startup) * 0.6)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL, "the load finished before it could be killed; make the file bigger"
    assert checksums(db) == before
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM load_batches").fetchone()[0] == 0
    con.close()
