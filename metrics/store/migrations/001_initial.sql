-- 001: the public schema of data-and-metrics.md.
-- Fact tables carry no primary-key constraint: uniqueness of natural keys is checked by the
-- loader, and an ART index on tens of millions of keys would cost more memory than the data.
CREATE TABLE departments (
    department_id VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    parent_id     VARCHAR,
    is_front_line BOOLEAN NOT NULL DEFAULT false,
    level         VARCHAR NOT NULL            -- directorate | department | team
);

CREATE TABLE staff (
    staff_id      VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    email         VARCHAR,
    department_id VARCHAR NOT NULL,
    manager_id    VARCHAR,
    active        BOOLEAN NOT NULL DEFAULT true,
    started_on    DATE,
    left_on       DATE                        -- addition: headcount at a date needs leavers
);

CREATE TABLE contacts (
    contact_id             VARCHAR NOT NULL,
    channel                VARCHAR NOT NULL,  -- phone, email, web, counter, social
    received_at            TIMESTAMP NOT NULL,
    answered_at            TIMESTAMP,
    abandoned              BOOLEAN NOT NULL DEFAULT false,
    wait_seconds           DOUBLE,
    department_id          VARCHAR,
    staff_id               VARCHAR,
    resolved_first_contact BOOLEAN NOT NULL DEFAULT false,
    request_id             VARCHAR,
    referred               BOOLEAN NOT NULL DEFAULT false,
    customer_id            VARCHAR            -- addition: repeat contact and complaint analysis
);

CREATE TABLE requests (
    request_id              VARCHAR NOT NULL,
    category                VARCHAR,
    department_id           VARCHAR NOT NULL, -- owner
    staff_id                VARCHAR,
    requester_department_id VARCHAR,          -- NULL = an external customer
    created_at              TIMESTAMP NOT NULL,
    due_at                  TIMESTAMP,
    first_response_at       TIMESTAMP,
    closed_at               TIMESTAMP,        -- also the decision time of a declined request
    status                  VARCHAR NOT NULL, -- open, closed, declined
    decline_reason          VARCHAR,
    priority                VARCHAR,
    channel                 VARCHAR,
    customer_id             VARCHAR
);

CREATE TABLE handoffs (
    handoff_id         VARCHAR NOT NULL,
    case_type          VARCHAR NOT NULL,      -- request, referral, invoice, complaint
    case_id            VARCHAR NOT NULL,
    from_department_id VARCHAR,
    to_department_id   VARCHAR NOT NULL,
    to_staff_id        VARCHAR,
    handed_at          TIMESTAMP NOT NULL,
    responded_at       TIMESTAMP,             -- e.g. callback returned
    completed_at       TIMESTAMP,
    due_at             TIMESTAMP
);

CREATE TABLE feedback (
    feedback_id        VARCHAR NOT NULL,
    kind               VARCHAR NOT NULL,      -- survey, complaint, compliment
    source             VARCHAR NOT NULL,      -- customer, staff
    received_at        TIMESTAMP NOT NULL,
    department_id      VARCHAR,               -- the department the feedback is about
    staff_id           VARCHAR,               -- the person it is about
    request_id         VARCHAR,
    contact_id         VARCHAR,
    csat               SMALLINT,              -- 1..5
    nps                SMALLINT,              -- 0..10
    effort             SMALLINT,              -- 1..7, 7 = very easy
    comment            VARCHAR,
    theme              VARCHAR,
    acknowledged_at    TIMESTAMP,
    followed_up_at     TIMESTAMP,
    follow_up_by       VARCHAR,
    action_taken       VARCHAR,
    resolved_at        TIMESTAMP,
    shared_with_staff  BOOLEAN NOT NULL DEFAULT false,
    customer_id        VARCHAR,               -- addition: repeat complaints by customer
    from_department_id VARCHAR                -- addition: the requesting department of internal feedback
);

CREATE TABLE surveys_sent (
    sent_on       DATE NOT NULL,
    department_id VARCHAR,
    staff_id      VARCHAR,
    channel       VARCHAR,
    surveys       INTEGER NOT NULL            -- surveys sent that day for that department/person
);

CREATE TABLE suggestions (
    suggestion_id  VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,          -- customer, staff
    submitted_by   VARCHAR,                   -- staff_id when source = staff
    department_id  VARCHAR,
    submitted_at   TIMESTAMP NOT NULL,
    status         VARCHAR NOT NULL,          -- new, reviewing, implemented, declined
    decided_at     TIMESTAMP,
    implemented_at TIMESTAMP,
    what_we_did    VARCHAR,
    linked_metric  VARCHAR,
    title          VARCHAR,                   -- addition: a short summary
    decline_reason VARCHAR                    -- addition
);

CREATE TABLE recognitions (
    recognition_id   VARCHAR NOT NULL,
    given_at         TIMESTAMP NOT NULL,
    from_kind        VARCHAR NOT NULL,        -- customer, staff
    from_staff_id    VARCHAR,
    to_staff_id      VARCHAR,
    to_department_id VARCHAR,
    value            VARCHAR,
    message          VARCHAR
);

CREATE TABLE invoices (
    invoice_id     VARCHAR NOT NULL,          -- addition: the natural key
    supplier_id    VARCHAR NOT NULL,
    supplier_name  VARCHAR,
    local_supplier BOOLEAN NOT NULL DEFAULT false,
    small_business BOOLEAN NOT NULL DEFAULT false,
    department_id  VARCHAR,                   -- the approving department
    received_at    TIMESTAMP NOT NULL,
    approved_at    TIMESTAMP,
    paid_at        TIMESTAMP,
    amount         DECIMAL(14, 2),
    terms_days     INTEGER NOT NULL DEFAULT 30
);

CREATE TABLE kpi_observations (
    metric_key    VARCHAR NOT NULL,
    department_id VARCHAR,                    -- NULL = the whole organisation
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    numerator     DOUBLE,
    denominator   DOUBLE,
    value         DOUBLE,
    source        VARCHAR
);

CREATE TABLE benchmarks (
    source       VARCHAR NOT NULL,
    organisation VARCHAR NOT NULL,
    cohort       VARCHAR,
    period       VARCHAR NOT NULL,
    metric_key   VARCHAR NOT NULL,
    value        DOUBLE
);

CREATE TABLE load_batches (
    batch_id   BIGINT PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    file_name  VARCHAR NOT NULL,
    checksum   VARCHAR NOT NULL,
    rows       BIGINT NOT NULL DEFAULT 0,
    loaded_at  TIMESTAMP NOT NULL,
    loaded_by  VARCHAR,
    status     VARCHAR NOT NULL
);

-- Business-day calendar, written from config.yaml's organisation calendar by metrics.store.
-- bd_before = number of business days strictly before `day`; see metrics/calendar.py.
CREATE TABLE calendar (
    day             DATE PRIMARY KEY,
    is_business_day BOOLEAN NOT NULL,
    bd_before       INTEGER NOT NULL,
    holiday         VARCHAR
);

-- Facts about the database itself: synthetic flag, generator seed, calendar fingerprint.
CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
