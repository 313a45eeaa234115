-- The rules count an organisation's open needs and the search follower lists its needs
-- when its verification changes: both by (org, kind), which the old (org, status) index
-- could not answer without visiting every post of the organisation (and the planner
-- preferred scanning all needs in log order, 0.2 s at a million entries).
DROP INDEX wf_posts_by_org;
CREATE INDEX wf_posts_by_org ON wf_posts (org, kind, status);
