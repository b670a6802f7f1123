-- 012: the committee pack's commentary (metrics.features.packs): per scope, period and section, the words its head
-- (or an executive) wrote to go with the figures; kept with the pack, so the PDF printed again says the same.
CREATE TABLE pack_commentary (
    scope_kind   VARCHAR NOT NULL,           -- organisation or department
    scope_key    VARCHAR NOT NULL,           -- the department's key; '' for the organisation
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    section      VARCHAR NOT NULL,           -- metrics.features.packs.SECTIONS
    body         VARCHAR NOT NULL,
    written_by   VARCHAR NOT NULL,
    written_at   TIMESTAMP NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope_kind, scope_key, period_start, period_end, section)
);
