-- 002: people who sign in (auth.mode: password or oidc) and their server-side sessions.
CREATE TABLE users (
    user_id         VARCHAR PRIMARY KEY,      -- the sign-in name: a lower-case e-mail
    display_name    VARCHAR,
    role            VARCHAR NOT NULL,         -- executive | head | staff | admin
    department_id   VARCHAR,
    staff_id        VARCHAR,                  -- their staff record, if any
    password_hash   VARCHAR,                  -- argon2; NULL = no password (e.g. OIDC only)
    active          BOOLEAN NOT NULL DEFAULT true,
    created_at      TIMESTAMP NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_failed_at  TIMESTAMP
);

CREATE TABLE sessions (
    token_hash   VARCHAR PRIMARY KEY,         -- sha256 of the opaque token; the token itself is never stored
    user_id      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
