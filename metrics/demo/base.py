"""What every part of the demo generator shares: the span of the data, its calendar, the hierarchy and staff, the
random generator (Ctx), and the expected calls per day."""
from __future__ import annotations

import numpy as np

START, END = np.datetime64("2023-01-01"), np.datetime64("2026-01-01")
YEARS = 3
SEC = np.timedelta64(1, "s")


class Ctx:
    """What the generator parts share: the rng, calendar, hierarchy and staff."""

    def __init__(self, departments, holidays, scale: float, seed: int):
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.deps = list(departments)
        self.parent = {d.key: d.parent for d in self.deps}
        self.holidays = np.array(sorted(holidays), dtype="datetime64[D]")
        self.days = np.arange(START, END, dtype="datetime64[D]")
        self.busday = np.is_busday(self.days, holidays=self.holidays)
        self.teams = [d.key for d in self.deps if d.level == "team"]

    def department_of(self, team: str) -> str:
        return self.parent.get(team) or team

    def frac(self, ts: np.ndarray) -> np.ndarray:
        """Where a time lies in 2023–2025, 0 to 1 (for trends)."""
        return (ts.astype("datetime64[s]") - START).astype(np.int64) / ((END - START).astype("timedelta64[s]").astype(np.int64))

    def trend(self, table: dict, keys: np.ndarray, ts: np.ndarray, default=(0.85, 0.85)) -> np.ndarray:
        deps = np.array([self.department_of(k) for k in keys]) if len(keys) else np.array([], dtype=object)
        lo = np.array([table.get(d, default)[0] for d in deps]) if len(keys) else np.zeros(0)
        hi = np.array([table.get(d, default)[1] for d in deps]) if len(keys) else np.zeros(0)
        return lo + (hi - lo) * self.frac(ts)

    def add_business_days(self, ts: np.ndarray, n: np.ndarray, hour: int = 17) -> np.ndarray:
        """The n-th business day after each timestamp's date, at `hour`:00."""
        day = ts.astype("datetime64[D]")
        out = np.busday_offset(day, n, roll="forward", holidays=self.holidays)
        return out.astype("datetime64[s]") + np.timedelta64(hour, "h")

    def pick(self, pools: dict, keys: np.ndarray) -> np.ndarray:
        """A random member of pools[key] for each key (None where the pool is empty)."""
        out = np.empty(len(keys), dtype=object)
        for key in np.unique(keys):
            idx = np.flatnonzero(keys == key)
            pool = pools.get(key, [])
            out[idx] = self.rng.choice(pool, len(idx)) if len(pool) else None
        return out

    def clip_end(self, ts: np.ndarray) -> np.ndarray:
        """NaT for anything after the end of the data."""
        ts = ts.copy()
        ts[ts >= END] = np.datetime64("NaT")
        return ts


def rates(c: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Expected calls and the month's factor, per day of the data (no randomness)."""
    month = (c.days.astype("datetime64[M]").astype(int) % 12) + 1
    weekday = (c.days.astype(int) + 3) % 7           # 1970-01-01 was a Thursday → 0 = Monday
    month_f = np.array([1.05, 1.0, 1.25, 1.2, 1.0, 0.95, 0.95, 0.9, 1.0, 1.0, 0.95, 0.75])[month - 1]
    week_f = np.array([1.3, 1.05, 1.0, 0.95, 0.85, 0.0, 0.0])[weekday]
    phone_rate = np.where(c.busday, week_f * month_f, 0.0)
    phone_rate *= 96_000 * YEARS * c.scale / phone_rate.sum()
    return phone_rate, month_f
