"""Demo sign-in: one persona per role, chosen from the data (auth.mode: demo only)."""
from __future__ import annotations

from dataclasses import dataclass

from metrics.access import Viewer
from metrics.engine import Engine


@dataclass(frozen=True)
class Persona:
    label: str
    viewer: Viewer


def demo_personas(engine: Engine) -> list[Persona]:
    """An executive (the person at the top of the line), the head of Housing, a contact-centre adviser
    with plenty of calls, and an administrator who manages nobody."""
    q = engine.query
    top = q("SELECT staff_id, name, department_id FROM staff WHERE manager_id IS NULL AND active ORDER BY staff_id LIMIT 1")
    head = q("SELECT staff_id, name, department_id FROM staff WHERE department_id = 'housing' AND active "
             "ORDER BY staff_id LIMIT 1")
    # A front-line person whose page has something to show: thanks received in the last month of data.
    adviser = q("""SELECT s.staff_id, s.name, s.department_id FROM staff s
                   JOIN recognitions r ON r.to_staff_id = s.staff_id
                   JOIN contacts c ON c.staff_id = s.staff_id
                   WHERE s.department_id LIKE 'cc_%' AND s.active
                     AND r.given_at >= (SELECT max(given_at) FROM recognitions) - INTERVAL 31 DAY
                   GROUP BY ALL ORDER BY count(DISTINCT r.recognition_id) DESC, count(DISTINCT c.contact_id) DESC,
                            s.staff_id LIMIT 1""")
    out = []
    for label, role, df in (("Executive", "executive", top), ("Head of department", "head", head),
                            ("Staff member", "staff", adviser)):
        if len(df):
            r = df.iloc[0]
            out.append(Persona(f"{label} — {r['name']}", Viewer(r["name"], role, r["department_id"], r["staff_id"])))
    out.append(Persona("Administrator — data and users", Viewer("Administrator", "admin", "people", None)))
    return out
