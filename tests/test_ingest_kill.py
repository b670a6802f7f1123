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
    p = subprocess.Popen([sys.executable, "-m", "metrics", "load", "contacts", str(big), "--db", str(db)],
                         cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    for line in p.stderr:                     # wait until validation is done: the write has begun
        if "validated" in line or time.time() > deadline:
            break
    time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL, "the load finished before it could be killed; make the file bigger"
    assert checksums(db) == before
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM load_batches").fetchone()[0] == 0
    con.close()
