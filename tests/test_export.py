"""export-parquet: every table written as Parquet reads back row for row; bad targets are refused."""
import duckdb
import pytest

from metrics.cli.main import main
from metrics.store.export import PARTITIONED, TABLES


def rows(con, sql):
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_every_table_reads_back_identically(demo_db, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export-parquet", str(out), "--db", demo_db]) == 0
    assert "exported" in capsys.readouterr().out
    src = duckdb.connect(demo_db, read_only=True)
    pq = duckdb.connect()
    for table in TABLES:
        cols = ", ".join(f'"{c[0]}"' for c in src.execute(f"DESCRIBE {table}").fetchall())
        files = f"{out}/{table}/**/*.parquet"
        back = rows(pq, f"SELECT {cols} FROM read_parquet('{files}', hive_partitioning = {table in PARTITIONED})")
        assert back == rows(src, f"SELECT {cols} FROM {table}"), table
    # The big facts are split by month of their time column.
    assert (out / "contacts" / "year=2025" / "month=12").is_dir()
    assert not (out / "users").exists() and not (out / "sessions").exists()


def test_a_non_empty_target_is_refused_and_kept(demo_db, tmp_path, capsys):
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export-parquet", str(out), "--db", demo_db]) == 2
    assert "already holds files" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
