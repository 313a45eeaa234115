-- The log: entries by index, the dense sequence of tree hashes, signed checkpoints.
-- All three are written in one transaction per sequenced batch. Same tables as the
-- SQLite schema, in PostgreSQL's types.
CREATE TABLE entries (
    idx       BIGINT PRIMARY KEY,
    leaf_hash BYTEA NOT NULL UNIQUE,
    leaf      BYTEA NOT NULL,
    kind      TEXT NOT NULL,
    author    BYTEA NOT NULL
);
CREATE INDEX entries_by_author ON entries (author, idx);

CREATE TABLE tree_hashes (
    position BIGINT PRIMARY KEY,
    hash     BYTEA NOT NULL
);

CREATE TABLE checkpoints (
    tree_size BIGINT PRIMARY KEY,
    note      TEXT NOT NULL
);
