"""`python -m metrics init`: a new organisation's config file and empty database from a departments CSV and a staff
CSV — or, with anything wrong, one sentence naming the line and nothing written."""
import pytest

from metrics.catalogue.organisation import named_departments, read_base
from metrics.catalogue.parse import load_config
from metrics.cli.main import main
from metrics.compute.engine import Engine

DEPARTMENTS = """key,name,parent,front_line
services,Customer Services,,yes
callcentre,Call Centre,services,yes
streets,Streets & Parks,,yes
graffiti,Graffiti Removal,streets,yes
backoffice,Back Office,,no
money,Finance,backoffice,no
people_team,HR,backoffice,no
"""
MAP = {"communications": "backoffice", "contact_centre": "callcentre", "customer_experience": "services",
       "cx_complaints": "callcentre", "finance": "money", "highways": "streets", "housing": "streets",
       "it": "backoffice", "people": "people_team", "planning": "streets", "revenues_benefits": "money",
       "waste": "graffiti"}
STAFF = ("staff_id,name,email,department_id,manager_id,active,started_on,left_on\n"
         "P1,Pat,pat@x,services,,true,2020-01-01,\n"
         "P2,Sam,sam@x,callcentre,P1,true,2021-06-01,\n")


def init(tmp_path, capsys, departments=DEPARTMENTS, staff=None, mapping=MAP):
    (tmp_path / "departments.csv").write_text(departments)
    args = ["init", "--name", "Testville", "--time-zone", "America/New_York", "--country", "US",
            "--departments", str(tmp_path / "departments.csv"), "--out", str(tmp_path / "testville.yaml"),
            "--db", str(tmp_path / "testville.duckdb")]
    if staff is not None:
        (tmp_path / "staff.csv").write_text(staff)
        args += ["--staff", str(tmp_path / "staff.csv")]
    for old, new in mapping.items():
        args += ["--map", f"{old}={new}"]
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_map_covers_every_department_the_catalogue_names():
    assert sorted(MAP) == named_departments(read_base("config.yaml"))


def test_a_new_organisation_starts_empty_with_its_departments_and_people(tmp_path, capsys):
    code, out, err = init(tmp_path, capsys, staff=STAFF)
    assert code == 0, err
    assert "wrote" in out and "7 units" in out
    config = load_config(str(tmp_path / "testville.yaml"))
    assert config.organisation.name == "Testville" and config.organisation.time_zone == "America/New_York"
    assert config.organisation.holidays == ()                              # the demo council's closure days are not ours
    assert config.organisation.periods_from == tuple(read_base("config.yaml")["organisation"]["periods_from"])
    assert {k: (d.parent, d.level, d.front_line) for k, d in config.departments.items()} == {
        "services": (None, "directorate", True), "callcentre": ("services", "department", True),
        "streets": (None, "directorate", True), "graffiti": ("streets", "department", True),
        "backoffice": (None, "directorate", False), "money": ("backoffice", "department", False),
        "people_team": ("backoffice", "department", False)}
    assert config.metrics["grade_of_service"].owner == "callcentre"          # contact_centre → callcentre
    assert config.chain.front_door == "callcentre"
    assert set(config.metrics["sla_attainment"].department_targets) <= set(config.departments)
    eng = Engine.open(tmp_path / "testville.duckdb", config, read_only=True)
    assert eng.data_range() is None                                         # no contacts yet
    assert eng.read_store("SELECT staff_id, department_id, coalesce(manager_id, '-') FROM staff ORDER BY staff_id").values.tolist() \
        == [["P1", "services", "-"], ["P2", "callcentre", "P1"]]


@pytest.mark.parametrize("departments, words", [
    (DEPARTMENTS + "callcentre,Another,streets,no\n", "line 9: key 'callcentre' is also on line 3"),
    (DEPARTMENTS + "parks,Parks,stretes,yes\n", "line 9: parent 'stretes' of parks is not a key in the file"),
    (DEPARTMENTS.replace("services,Customer Services,,yes", "services,Customer Services,callcentre,yes"),
     "line 2: the parents of services lead back to it (services → callcentre → services)"),
    (DEPARTMENTS + "north,North,graffiti,no\nnorth_a,North A,north,no\n", "north_a is 4 levels deep"),
    (DEPARTMENTS + "Bad Key,Bad,,no\n", "line 9: key 'Bad Key' is not accepted"),
    (DEPARTMENTS + "parks,Parks,streets,maybe\n", "line 9: front_line 'maybe' is not accepted; write yes or no"),
    ("key,name,parent\nx,X,\n", "a departments file has the columns key, name, parent, front_line"),
])
def test_a_bad_departments_file_is_one_sentence_and_writes_nothing(tmp_path, capsys, departments, words):
    code, out, err = init(tmp_path, capsys, departments=departments)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "testville.yaml").exists() and not (tmp_path / "testville.duckdb").exists()


def test_an_unmapped_catalogue_department_is_named_and_nothing_written(tmp_path, capsys):
    code, _, err = init(tmp_path, capsys, mapping={k: v for k, v in MAP.items() if k not in ("finance", "waste")})
    assert code == 2 and "does not have: finance, waste; say which of yours stands for each with --map" in err
    assert not (tmp_path / "testville.yaml").exists()


def test_a_staff_file_naming_an_unknown_team_or_manager_writes_nothing(tmp_path, capsys):
    code, _, err = init(tmp_path, capsys, staff=STAFF + "P3,Lee,lee@x,narnia,P1,true,2022-01-01,\n")
    assert code == 2 and "row 3 department_id 'narnia': unknown department narnia" in err and "nothing was written" in err
    assert not (tmp_path / "testville.yaml").exists() and not (tmp_path / "testville.duckdb").exists()
    code, _, err = init(tmp_path, capsys, staff=STAFF + "P3,Lee,lee@x,money,P9,true,2022-01-01,\n")
    assert code == 2 and "row 3 manager_id 'P9': unknown staff member" in err
    assert not (tmp_path / "testville.yaml").exists()
