-- Webhook subscriptions and their deliveries (docs/API.md "Webhooks"). Not derived
-- from the log: a subscription holds a callback URL and a secret, so these are the
-- server's own tables, never wf_* (which `rebuild` replays) and never in an export.
CREATE TABLE webhook_subscriptions (
    id           TEXT PRIMARY KEY,
    owner        BYTEA NOT NULL,
    callback_url TEXT NOT NULL,
    secret       TEXT NOT NULL,
    selection    TEXT NOT NULL,
    from_index   BIGINT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX webhook_subscriptions_by_owner ON webhook_subscriptions (owner, created_at);

-- One row per (subscription, log entry) to deliver; several nodes claim a due row by
-- moving `claimed_until_ms` past now, so one node sends each attempt.
CREATE TABLE webhook_deliveries (
    subscription     TEXT NOT NULL,
    idx              BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_ms  BIGINT NOT NULL,
    claimed_until_ms BIGINT NOT NULL,
    PRIMARY KEY (subscription, idx)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);

-- The delivery log: every attempt, its answer's status or why there was none.
CREATE TABLE webhook_attempts (
    subscription TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    attempt      BIGINT NOT NULL,
    at           TEXT NOT NULL,
    status       BIGINT,
    error        TEXT,
    PRIMARY KEY (subscription, idx, attempt)
);

-- The next log index the matcher has not looked at.
CREATE TABLE webhook_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    next_index BIGINT NOT NULL
);
INSERT INTO webhook_cursor (id, next_index) VALUES (1, 0);
