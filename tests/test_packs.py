"""The committee pack (metrics/features/packs.py, documents.pack) on the hand-worked fixture (tests/fixture.sql):
its sections in order with the commentary kept per scope, period and section; who may write it; audit rows; the
commentary printed as plain text; and `python -m metrics report pack`."""
import subprocess
from pathlib import Path

import pytest

from metrics.access import Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.cli.main import main
from metrics.compute.periods import month
from metrics.errors import AccessDenied, MetricsError
from metrics.features import packs
from metrics.present import documents, pdf
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent

MAY, APRIL = month(2024, 5), month(2024, 4)
CAT = Viewer("Cat", "executive", "contact_centre", "S3")
HEAD = Viewer("head@council.example", "head", "housing", None)
ANN = Viewer("Ann", "staff", "cc_phones", "S1")
HOUSING = Scope("department", "housing")


def text_of(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def test_the_pack_prints_every_section_in_order_with_its_commentary(fresh_engine):
    packs.save(fresh_engine, CAT, ORGANISATION, MAY, "headline", "Calls improved after the new rota.")
    packs.save(fresh_engine, CAT, ORGANISATION, MAY, "voice", "**Not bold** <b>nor this</b>")
    text = text_of(pdf.render(fresh_engine, documents.build(fresh_engine, CAT, "pack", ORGANISATION, MAY)))
    headings = list(packs.SECTIONS.values())
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)                 # in the pack's order
    assert "Commentary Calls improved after the new rota." in text
    assert "**Not bold** <b>nor this</b>" in text           # people's words printed as they wrote them
    assert "40.0 %" in text                                 # the organisation's calls within 20 s in May, 2 of 5
    assert "Scope The whole organisation" in text and "Period May 2024" in text
    # Kept per period: April's pack has none of May's commentary.
    april = text_of(pdf.render(fresh_engine, documents.build(fresh_engine, CAT, "pack", ORGANISATION, APRIL)))
    assert "Calls improved" not in april


def test_who_may_write_the_commentary_and_the_audit_trail(fresh_engine):
    packs.save(fresh_engine, HEAD, HOUSING, MAY, "chain", "Repairs waited on IT.")
    with pytest.raises(AccessDenied):
        packs.save(fresh_engine, HEAD, Scope("department", "contact_centre"), MAY, "chain", "Not mine")
    with pytest.raises(AccessDenied):
        packs.save(fresh_engine, HEAD, ORGANISATION, MAY, "chain", "The organisation's is an executive's")
    with pytest.raises(AccessDenied):
        packs.save(fresh_engine, ANN, HOUSING, MAY, "chain", "Staff do not write it")
    with pytest.raises(MetricsError, match="unknown pack section"):
        packs.save(fresh_engine, HEAD, HOUSING, MAY, "nosuch", "x")
    with pytest.raises(MetricsError, match="at most 3,000"):
        packs.save(fresh_engine, HEAD, HOUSING, MAY, "chain", "x" * 3001)
    packs.save(fresh_engine, CAT, HOUSING, MAY, "chain", "Repairs waited on IT; IT has a plan.")
    packs.save(fresh_engine, HEAD, HOUSING, MAY, "goals", "")          # clearing a section that has none
    assert packs.commentary(fresh_engine, HEAD, HOUSING, MAY) == {"chain": "Repairs waited on IT; IT has a plan."}
    audit = fresh_engine.con.execute("SELECT user_name, changes FROM audit_log WHERE action = 'pack.commentary' "
                                     "ORDER BY audit_id").fetchall()
    assert [a[0] for a in audit] == [HEAD.user, "Cat", HEAD.user]
    text = text_of(pdf.render(fresh_engine, documents.build(fresh_engine, HEAD, "pack", None, MAY)))
    assert "Committee pack — Housing" in text and "Repairs waited on IT; IT has a plan." in text


def test_report_prints_the_pack(demo_db, tmp_path, capsys):
    out = tmp_path / "pack.pdf"
    assert main(["report", "pack", "--scope", "department:housing", "--as", "head", "--db", demo_db,
                 "--out", str(out)]) == 0
    text = text_of(out.read_bytes())
    assert "Committee pack — Housing" in text and all(h in text for h in packs.SECTIONS.values())
    assert main(["report", "pack", "--scope", "staff:S1", "--db", demo_db, "--out", str(out)]) == 2
    assert "is for org or department:KEY" in capsys.readouterr().err


def test_a_head_writes_the_commentary_on_the_pack_page(env, config):
    at, head = demo_sign_in("head", env, config)
    at.switch_page(str(ROOT / "pages/pack.py"))
    at.run()
    assert not at.exception
    assert at.title[0].value == f"Committee pack — {config.departments[head.department_id].name}"
    assert [h.value for h in at.subheader] == list(packs.SECTIONS.values())
    at.text_area(key="pack-chain").input("Most late callbacks waited on repairs officers.")
    at.button(key="pack-save-chain").click()
    at.run()
    assert not at.exception and not at.error
    assert any(i.value.replace("\\", "") == "Most late callbacks waited on repairs officers." for i in at.info)
    assert at.sidebar.get("download_button")                 # the pack as a PDF
