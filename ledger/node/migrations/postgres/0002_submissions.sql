-- Submissions accepted by any node and waiting for the integrator (several nodes on
-- one database). A row is written by the node that accepted the entry, decided by the
-- integrator in the transaction of the batch that sequenced (or refused) it, and
-- deleted by the accepting node once it has answered its client. `sidecar` (private
-- contact data) is cleared when the row is decided.
CREATE TABLE submissions (
    id          BIGSERIAL PRIMARY KEY,
    leaf        BYTEA NOT NULL,
    sidecar     TEXT,
    outcome     TEXT,
    accepted_at BIGINT NOT NULL
);
CREATE INDEX submissions_undecided ON submissions (id) WHERE outcome IS NULL;

-- Notifications wake the nodes (they also poll): the integrator on a new submission,
-- the accepting nodes when submissions are decided, every node on a new checkpoint.
-- PostgreSQL delivers them when the writing transaction commits.
CREATE FUNCTION aidledger_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER submissions_new AFTER INSERT ON submissions
    FOR EACH STATEMENT EXECUTE FUNCTION aidledger_notify('aidledger_submission');
CREATE TRIGGER submissions_decided AFTER UPDATE ON submissions
    FOR EACH STATEMENT EXECUTE FUNCTION aidledger_notify('aidledger_decided');
CREATE TRIGGER checkpoints_new AFTER INSERT ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION aidledger_notify('aidledger_checkpoint');
