-- 005: failed sign-ins are counted per typed user name, whether or not it is an account, so that the
-- "too many failed attempts" wait cannot tell which names exist (metrics.accounts.authenticate).
-- A name is kept only as sha256(salt, newline, the lower-cased name), with a random salt made here for
-- this database, so a typo or a password typed into the name box is not stored as written. Rows are
-- forgotten a day after their last failure (accounts.FORGET_FAILURES), so the table stays small.
CREATE TABLE sign_in_salt (
    salt VARCHAR NOT NULL
);
INSERT INTO sign_in_salt SELECT CAST(gen_random_uuid() AS VARCHAR) || CAST(gen_random_uuid() AS VARCHAR);

CREATE TABLE sign_in_failures (
    name_key       VARCHAR PRIMARY KEY,       -- sha256 of the salt and the normalised name, hex
    failures       INTEGER NOT NULL,          -- failures in a row since the last success
    last_failed_at TIMESTAMP NOT NULL
);

-- Carry the running counts of real accounts over; users.failed_attempts and users.last_failed_at are
-- no longer written (left at 0 / NULL; kept so older readers of the table still work).
INSERT INTO sign_in_failures
SELECT sha256(s.salt || chr(10) || u.user_id), u.failed_attempts, u.last_failed_at
FROM users u, sign_in_salt s
WHERE u.failed_attempts > 0 AND u.last_failed_at IS NOT NULL;
UPDATE users SET failed_attempts = 0, last_failed_at = NULL WHERE failed_attempts <> 0 OR last_failed_at IS NOT NULL;
