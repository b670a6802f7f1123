"""What every hostile-input case asserts: one clear sentence, no traceback, nothing written."""
from __future__ import annotations

import hashlib


def table_checksums(con) -> dict:
    """A hash of every base table's full contents (rows sorted), to prove that nothing changed."""
    out = {}
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                               "AND table_catalog = current_database() ORDER BY 1").fetchall():
        rows = con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
        out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def assert_one_sentence(message: str, *words: str) -> None:
    """A message fit to show a person: one line, no traceback or Python internals, naming what it must."""
    text = str(message)
    assert text.strip(), "empty message"
    assert "\n" not in text.strip(), f"more than one line: {text!r}"
    for bad in ("Traceback", 'File "', "Error:", "duckdb.", "sqlglot.", "KeyError", "TypeError", "ValueError",
                "AttributeError", "NoneType"):
        assert bad not in text, f"{bad!r} in a message meant for a person: {text!r}"
    for w in words:
        assert w.lower() in text.lower(), f"{w!r} not in {text!r}"
