-- The log: entries by index, the dense sequence of tree hashes, signed checkpoints.
-- All three are written in one transaction per sequenced batch.
CREATE TABLE entries (
    idx       INTEGER PRIMARY KEY,
    leaf_hash BLOB NOT NULL UNIQUE,
    leaf      BLOB NOT NULL,
    kind      TEXT NOT NULL,
    author    BLOB NOT NULL
);
CREATE INDEX entries_by_author ON entries (author, idx);

CREATE TABLE tree_hashes (
    position INTEGER PRIMARY KEY,
    hash     BLOB NOT NULL
);

CREATE TABLE checkpoints (
    tree_size INTEGER PRIMARY KEY,
    note      TEXT NOT NULL
);
