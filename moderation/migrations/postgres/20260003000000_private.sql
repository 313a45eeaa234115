-- Private contact data, kept off the log. Not derived: `rebuild` leaves these tables
-- alone. Erasure deletes the row's salt and data and keeps the row as a tombstone.
CREATE TABLE pd_contacts (
    entry     BYTEA PRIMARY KEY,
    salt      BYTEA,
    data      TEXT,
    erased_at TEXT,
    erased_reason TEXT
);

-- Every read of private data: who, when, which entry.
CREATE TABLE pd_reads (
    id     BIGSERIAL PRIMARY KEY,
    entry  BYTEA NOT NULL,
    reader BYTEA NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX pd_reads_by_entry ON pd_reads (entry, id);
