-- 006: the figure store, kept in the file (metrics.compute.figures.save / load), so that a restart or the
-- command line serves standard figures without recomputing them, and a store computed by Spark in batch
-- is served by DuckDB. Derived data only: rebuilt from the facts whenever it is missing or out of date.
-- Written by the engine after each complete build; read only when its data version is the file's.
CREATE TABLE figure_store_state (
    version  VARCHAR NOT NULL,        -- the data version the store was built from (Engine.data_version)
    built_at TIMESTAMP NOT NULL,
    state    VARCHAR NOT NULL         -- JSON: table and metric versions, periods covered, units, empty figures
);

CREATE TABLE figure_store (
    metric_key   VARCHAR NOT NULL,
    unit         VARCHAR NOT NULL,    -- org, u:UNIT (with the units under it), d:UNIT (its own rows), s:STAFF
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,       -- included
    numerator    DOUBLE,
    denominator  DOUBLE,
    value        DOUBLE
);
