-- Where goods are received (docs/FORMAT.md §5): public, an organisation's and a
-- need's own. Derived like every wf_ table: `rebuild` replays it from the log.
ALTER TABLE wf_orgs ADD COLUMN delivery_point TEXT;
ALTER TABLE wf_posts ADD COLUMN delivery_point TEXT;
