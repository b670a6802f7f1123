"""The typed catalogue that config.yaml becomes: frozen dataclasses, no parsing here.

metrics.config reads and validates the YAML into these; everything else in the library reads them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from metrics.errors import UnknownError


@dataclass(frozen=True)
class Organisation:
    name: str
    time_zone: str
    country: str | None
    subdivision: str | None
    business_days: tuple[int, ...]          # 0 = Monday
    holidays: tuple[dt.date, ...]
    # The sources whose first and last days bound the periods pages offer (and so the default period: the last full
    # month): an organisation whose first export is its 311 requests has figures before it has any contacts.
    periods_from: tuple[str, ...] = ("contacts",)


@dataclass(frozen=True)
class Department:
    key: str
    name: str
    parent: str | None
    level: str                               # directorate | department | team
    front_line: bool


@dataclass(frozen=True)
class Case:
    """How a source's row is followed through the `handoffs` table (config `sources.<key>.case`): its hand-offs are
    those with case_type = `type` and case_id = the row's `id` column; it runs from `opened` to `closed`."""
    type: str                                # the handoffs.case_type of this source's cases
    id: str                                  # the column holding the case id (handoffs.case_id)
    opened: str                              # when the case started
    closed: str                              # when it was done (NULL: not yet)


@dataclass(frozen=True)
class Source:
    key: str
    table: str
    time: str
    department: str | None
    staff: str | None
    filter: str | None
    dimensions: tuple[str, ...]
    derived: Mapping[str, str]
    business_days: Mapping[str, tuple[str, str]]
    requester: str | None = None             # internal service: the column naming the department that asked
    case: Case | None = None                 # how a row is followed through the hand-offs (the chain's late outcomes)


@dataclass(frozen=True)
class Measure:
    """One aggregation over one source: the building block of every metric."""
    source: str
    agg: str
    expr: str | None = None
    filter: str | None = None
    time: str | None = None                  # overrides the source's time column
    quantile: float | None = None
    at_period_end: tuple[str, str] | None = None   # (opened column, closed column): a snapshot
    name: str | None = None                  # the named measure (config `measures:`) it is, or narrows
    params: Mapping[str, Any] = field(default_factory=dict)   # a named measure's own {name} values


@dataclass(frozen=True)
class Target:
    target: float
    warning: float | None


def band_problem(direction: str, target: float, warning: float | None) -> str | None:
    """What is wrong with a target's warning threshold for a metric's direction, or None: the warning band lies on
    the worse side of the target (config.yaml's targets and those set on the Targets page alike)."""
    if warning is not None and direction == "higher_is_better" and warning > target:
        return f"{warning:g} is above the target {target:g}; for higher_is_better the warning threshold is lower"
    if warning is not None and direction == "lower_is_better" and warning < target:
        return f"{warning:g} is below the target {target:g}; for lower_is_better the warning threshold is higher"
    return None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    description: str
    owner: str
    type: str                                # the figure's shape: simple (one aggregation) | ratio
    direction: str
    format: str
    unit: str | None
    decimals: int
    min_denominator: int
    params: Mapping[str, Any]
    measure: Measure | None = None           # simple
    numerator: Measure | None = None         # ratio
    denominator: Measure | None = None       # ratio
    multiplier: float = 1.0
    anonymous: bool = False                  # survey answers: small groups are suppressed
    default_target: Target | None = None
    department_targets: Mapping[str, Target] = field(default_factory=dict)
    kind: str = ""                           # config `type`: simple | ratio | observed | misses (default: type)
    base: str | None = None                  # misses: the ratio whose left-out denominator rows it counts

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", self.type)

    @property
    def observations(self) -> bool:
        """True for `type: observed`: figures from pre-aggregated kpi_observations rows, a ratio of their sums."""
        return self.kind == "observed"

    def measures(self) -> tuple[Measure, ...]:
        """The measures this metric aggregates (one for simple, two for ratio)."""
        if self.observations:
            return ()
        return (self.measure,) if self.type == "simple" else (self.numerator, self.denominator)


@dataclass(frozen=True)
class Goal:
    key: str
    label: str
    description: str
    target: float
    warning: float
    metrics: tuple[tuple[str, float], ...]   # (metric key, weight)
    misses: tuple[str, ...]
    departments: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    keywords: tuple[str, ...]               # whole words; a trailing * matches any ending


@dataclass(frozen=True)
class Voice:
    """Listening and acting: where unrouted cases go, the organisation's values, comment themes, and what
    counts as negative feedback (a case) and as praise — the `negative` and `positive` derived columns of
    the source `feedback_source` names, so the metrics and the lists use one rule each."""
    unrouted_department: str | None = None
    values: tuple[str, ...] = ()
    themes: Mapping[str, Theme] = field(default_factory=dict)   # in config order (first match wins)
    feedback_source: str = "feedback"
    negative: str = "FALSE"                  # SQL over a feedback row (the source's derived `negative`)
    positive: str = "FALSE"                  # likewise `positive`
    follow_up_days: int = 2                  # business days to follow a case up (the follow-up metric's parameter)


@dataclass(frozen=True)
class SparkSettings:
    """Where the Spark backend runs and what it reads (config `spark:`)."""
    master: str = "local[2]"                 # local[N], spark://host:7077, yarn, k8s://…
    remote: str | None = None                # a Spark Connect URL (sc://host:15002) instead of master
    source: str = "data/parquet"             # a folder written by `export-parquet` (path, s3a://, hdfs://, abfss://)
    tables: Mapping[str, str] = field(default_factory=dict)   # table → a Spark table name read instead of Parquet
    conf: Mapping[str, str] = field(default_factory=dict)     # extra Spark settings (spark.executor.memory, …)
    cache: bool = False                      # keep the tables in Spark's memory after their first read


@dataclass(frozen=True)
class SpreadsheetLimits:
    """How much of one .xlsx the loader reads before it stops and says so (config `loader.spreadsheets`).

    A workbook is a zip of XML: a few kilobytes can declare a million rows by sixteen thousand columns.
    config.yaml sets them; these defaults apply to a config without a `loader:` section.
    """
    max_rows: int = 1_000_000                # data rows after the header
    max_columns: int = 1_000                 # the rightmost column holding a value
    max_bytes: int = 500_000_000             # the workbook unpacked, and the text streamed from its sheet


@dataclass(frozen=True)
class MailSettings:
    """Sending e-mail (config `mail`): alerts and digests go through this SMTP server. The password is read from the
    environment variable `password_env` when mail is sent, never from the config or the repository."""
    host: str
    port: int = 587
    security: str = "starttls"               # starttls | ssl | none
    user: str | None = None
    password_env: str = "CX_SMTP_PASSWORD"
    sender: str = "cx-dashboard@localhost"   # config `from`
    retry_minutes: int = 5                   # the first wait after a failure; doubled after each, up to:
    max_retry_minutes: int = 360
    dashboard_url: str = "http://localhost:8501"   # links in digests (the page, one-click unsubscribe)


@dataclass(frozen=True)
class SpcSettings:
    """Statistical process control (config `spc`; metrics/features/spc.py): the limits are the mean ± limit_factor ×
    the mean moving range; a trend is trend_points points each higher (or lower) than the last, a shift shift_points
    points on one side of the mean; a stretch of fewer than min_points points gets no limits. Defaults: NHS England's
    Making Data Count."""
    limit_factor: float = 2.66
    trend_points: int = 7
    shift_points: int = 7
    min_points: int = 12
    history_months: int = 24                 # the months a card's icons and an SPC chart look back over


@dataclass(frozen=True)
class AnnotationSettings:
    """Events marked on trends (config `annotations`; metrics/features/events.py): the kinds an annotation may be
    (key → the words shown; none configured: no annotations can be added), and the kind implemented suggestions
    appear as (None: they do not appear)."""
    kinds: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    suggestions_as: str | None = None


@dataclass(frozen=True)
class DemandClass:
    """A class of demand (config `demand.classes`): the words shown, and whether it is failure demand (a contact
    caused by a failure somewhere else: chasing, not done right first time, ...) or value demand."""
    label: str
    failure: bool


@dataclass(frozen=True)
class DemandSettings:
    """Why customers call (config `demand`; migration 014's contact_demand view): each reason a contact may carry →
    its class; the class of a contact with no reason (`waiting_class` when the customer had an open request or an
    unreturned callback at the call, else `otherwise_class`); how far back a call may chase a closed item
    (`window_days`) and how long an open one stays chaseable (`stale_after_days`); the handling seconds costed for a
    contact of a channel none of whose contacts has a time."""
    classes: Mapping[str, DemandClass] = field(default_factory=lambda: MappingProxyType({}))
    reasons: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    waiting_class: str | None = None
    otherwise_class: str | None = None
    window_days: int = 28
    default_handle_seconds: float | None = None
    stale_after_days: int = 90               # an item open longer than this is taken as closed unrecorded: not chased


@dataclass(frozen=True)
class ChainSettings:
    """What the chain page is built from (config `chain:`): catalogue metric keys, named once."""
    front_door: str | None = None            # the department customers' contacts arrive at and are referred from
    internal_service: Mapping[str, str] = field(default_factory=dict)   # matrix column → metric, in order shown
    requests: str | None = None              # the internal_service column whose denominator counts the requests
    declines: str | None = None              # the internal_service column whose counted rows are the declines
    callbacks: str | None = None             # the referrals metric: its rows, its numerator = called back in time
    late_outcomes: Mapping[str, str] = field(default_factory=dict)      # metric → the customers' words for it
    supplier_payments: Mapping[str, str] = field(default_factory=dict)  # column (see SUPPLIER_COLUMNS) → metric
    failure_demand: Mapping[str, str] = field(default_factory=dict)     # share / caused / cost → metric (optional)


def source_of(metric: Metric, sources: Mapping[str, Source]) -> Source | None:
    """The source whose rows a metric counts (a simple metric's, a ratio's denominator's); None for a metric
    computed from pre-aggregated observations."""
    measure = metric.measure or metric.denominator
    return None if measure is None else sources.get(measure.source)


@dataclass(frozen=True)
class Config:
    path: str
    organisation: Organisation
    database_path: str
    departments: Mapping[str, Department]   # in config order
    sources: Mapping[str, Source]
    metrics: Mapping[str, Metric]
    goals: Mapping[str, Goal]
    min_group_size: int = 5                  # privacy: smaller groups of anonymous answers are suppressed
    auth_mode: str = "demo"                  # demo | password | oidc
    session_idle_minutes: int = 60
    voice: Voice = field(default_factory=Voice)
    engine: str = "duckdb"                   # duckdb | spark: which engine computes the metrics
    spark: SparkSettings = field(default_factory=SparkSettings)
    spreadsheets: SpreadsheetLimits = field(default_factory=SpreadsheetLimits)
    # What a load accepts in coded columns and scores (config `loader.allowed_values`, `loader.ranges`),
    # keyed by (table, column): e.g. ("contacts", "channel") → ("phone", "email", ...), ("feedback", "csat") → (1, 5).
    allowed_values: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    # What each page shows (config `pages:`): page → part → metric keys in the order shown.
    pages: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    chain: ChainSettings = field(default_factory=ChainSettings)
    alert_quiet_hours: int = 72              # alerts: a rule fires at most once in this many hours
    mail: MailSettings | None = None         # None: nothing is e-mailed (alerts stay in the app)
    spc: SpcSettings = SpcSettings()         # statistical process control's constants and rule lengths
    annotations: AnnotationSettings = AnnotationSettings()   # events marked on trends: their kinds
    demand: DemandSettings = DemandSettings()                # why customers call: reasons → value / failure demand

    def page(self, page: str, part: str) -> tuple[str, ...]:
        """The metric keys a part of a page shows, in order (config `pages.<page>.<part>`)."""
        return self.pages[page][part]

    def source_of(self, metric: Metric) -> Source:
        """The source whose rows a metric counts (a simple metric's, a ratio's denominator's); None for a metric
        computed from pre-aggregated observations."""
        return source_of(metric, self.sources)

    def metric(self, key: str) -> Metric:
        """The metric definition; UnknownError naming close matches if there is none."""
        found = self.metrics.get(key)
        if found is None:
            close = [k for k in self.metrics if key[:4] in k] or list(self.metrics)[:8]
            raise UnknownError(f"unknown metric {key!r} (did you mean: {', '.join(close)}?); "
                               "`python -m metrics list` shows them all")
        return found

    def children(self, key: str) -> tuple[str, ...]:
        """Direct children of a department key, in config order."""
        return tuple(d.key for d in self.departments.values() if d.parent == key)

    def descendants(self, key: str) -> tuple[str, ...]:
        """The key itself and every department below it."""
        out, todo = [], [key]
        while todo:
            k = todo.pop(0)
            out.append(k)
            todo.extend(self.children(k))
        return tuple(out)

    def ancestors(self, key: str) -> tuple[str, ...]:
        """The key itself, then its parent, up to the directorate."""
        out = []
        while key is not None:
            out.append(key)
            key = self.departments[key].parent
        return tuple(out)
