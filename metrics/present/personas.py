"""Demo sign-in: one persona per role, chosen from the data (auth.mode: demo only)."""
from __future__ import annotations

from dataclasses import dataclass

from metrics import access
from metrics.access import Viewer
from metrics.compute.engine import Engine


@dataclass(frozen=True)
class Persona:
    label: str
    viewer: Viewer


@access.same_for_every_viewer
def demo_personas(engine: Engine, viewer=None) -> list[Persona]:
    """An executive (the person at the top of the line), the head of Housing, a contact-centre adviser
    with plenty of calls, and an administrator who manages nobody."""
    q = engine.read_store
    top = q("SELECT staff_id, name, department_id FROM staff WHERE manager_id IS NULL AND active ORDER BY staff_id LIMIT 1")
    head = q("SELECT staff_id, name, department_id FROM staff WHERE department_id = 'housing' AND active "
             "ORDER BY staff_id LIMIT 1")
    # A front-line person whose page has something to show: thanks received in the last month of the contact data
    # (thanks given in the dashboard since, after the data ends, change nobody's persona).
    # (The few candidates first, then their contacts counted: a join of every contact with every thanks
    # would cost gigabytes at ten million contacts.)
    adviser = q("""WITH last AS (SELECT CAST(max(received_at) AS DATE) + 1 AS day FROM contacts),
                   thanked AS (
                       SELECT s.staff_id, s.name, s.department_id, count(*) AS thanks FROM staff s
                       JOIN recognitions r ON r.to_staff_id = s.staff_id
                       WHERE s.department_id LIKE 'cc_%' AND s.active
                         AND r.given_at >= (SELECT day FROM last) - INTERVAL 31 DAY
                         AND r.given_at < (SELECT day FROM last)
                       GROUP BY ALL),
                   calls AS (SELECT staff_id, count(*) AS contacts FROM contacts
                             WHERE staff_id IN (SELECT staff_id FROM thanked) GROUP BY staff_id)
                   SELECT t.staff_id, t.name, t.department_id FROM thanked t JOIN calls c USING (staff_id)
                   ORDER BY t.thanks DESC, c.contacts DESC, t.staff_id LIMIT 1""")
    out = []
    for label, role, df in (("Executive", "executive", top), ("Head of department", "head", head),
                            ("Staff member", "staff", adviser)):
        if len(df):
            r = df.iloc[0]
            out.append(Persona(f"{label} — {r['name']}", Viewer(r["name"], role, r["department_id"], r["staff_id"])))
    out.append(Persona("Administrator — data and users", Viewer("Administrator", "admin", "people", None)))
    return out
