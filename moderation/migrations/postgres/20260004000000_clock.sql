-- The log's clock: its latest `log.clock` reading, by which the rules judge time.
-- Derived like every wf_ table: `rebuild` replays it from the log.
CREATE TABLE wf_clock (
    time TEXT NOT NULL,
    idx  BIGINT NOT NULL
);
