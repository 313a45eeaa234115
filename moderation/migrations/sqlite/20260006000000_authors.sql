-- The review queue shows each author's history and an offer's likely duplicates (the
-- same author's other offers): both look entries up by author.
CREATE INDEX wf_posts_by_author ON wf_posts (author);
CREATE INDEX wf_orgs_by_author ON wf_orgs (author);
CREATE INDEX wf_links_by_author ON wf_links (author, kind);
