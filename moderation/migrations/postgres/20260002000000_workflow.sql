-- Derived state of the aid workflow. Every row is a function of the log: `aidledger
-- rebuild` drops these tables and replays the log through the same rules.
-- Ids are entry leaf hashes; keys are ed25519 public keys (32 bytes).
CREATE TABLE wf_roles (
    key  BYTEA NOT NULL,
    role TEXT NOT NULL,
    org  BYTEA NOT NULL DEFAULT ''::bytea,
    idx  BIGINT NOT NULL,
    PRIMARY KEY (key, role, org)
);

CREATE TABLE wf_orgs (
    id          BYTEA PRIMARY KEY,
    idx         BIGINT NOT NULL,
    author      BYTEA NOT NULL,
    name        TEXT NOT NULL,
    org_type    TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    area_name   TEXT NOT NULL,
    description TEXT,
    created_at  TEXT NOT NULL,
    verifies    BIGINT NOT NULL DEFAULT 0,
    rejects     BIGINT NOT NULL DEFAULT 0
);

-- Needs and offers ("posts") share verdict bookkeeping.
CREATE TABLE wf_posts (
    id           BYTEA PRIMARY KEY,
    idx          BIGINT NOT NULL,
    kind         TEXT NOT NULL,          -- need | offer
    author       BYTEA NOT NULL,
    org          BYTEA,                   -- needs only
    urgency      TEXT,
    urgency_rank BIGINT,
    needed_by    TEXT,                   -- needs: YYYY-MM-DD; offers: available_until
    area_code    TEXT NOT NULL,
    area_name    TEXT NOT NULL,
    description  TEXT,
    evidence_url TEXT,
    evidence_photo TEXT,
    relayed      BIGINT NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',   -- open | met | withdrawn | expired
    closed_at    TEXT,
    verifies     BIGINT NOT NULL DEFAULT 0,
    rejects      BIGINT NOT NULL DEFAULT 0,
    duplicate_of BYTEA,
    stale_flags  BIGINT NOT NULL DEFAULT 0,
    has_contact  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX wf_posts_by_kind ON wf_posts (kind, idx);
CREATE INDEX wf_posts_by_org ON wf_posts (org, status);

CREATE TABLE wf_post_items (
    post      BYTEA NOT NULL,
    line      BIGINT NOT NULL,
    item      TEXT NOT NULL,
    category  TEXT NOT NULL,
    unit      TEXT NOT NULL,
    spec      TEXT,
    requested BIGINT NOT NULL,
    pledged   BIGINT NOT NULL DEFAULT 0,
    shipped   BIGINT NOT NULL DEFAULT 0,
    delivered BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (post, line)
);
CREATE INDEX wf_post_items_by_category ON wf_post_items (category, post);

-- Pledges, shipments and delivery confirmations: the links of a donation's chain.
CREATE TABLE wf_links (
    id         BYTEA PRIMARY KEY,
    idx        BIGINT NOT NULL,
    kind       TEXT NOT NULL,           -- pledge | shipment | delivery.confirm
    author     BYTEA NOT NULL,
    parent     BYTEA NOT NULL,           -- need, pledge or shipment
    need       BYTEA NOT NULL,
    detail     TEXT NOT NULL,           -- the public body fields as JSON
    created_at TEXT NOT NULL
);
CREATE INDEX wf_links_by_parent ON wf_links (parent, idx);
CREATE INDEX wf_links_by_need ON wf_links (need, idx);

CREATE TABLE wf_link_items (
    link     BYTEA NOT NULL,
    line     BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    passed   BIGINT NOT NULL DEFAULT 0,  -- shipped (of a pledge) or delivered (of a shipment)
    PRIMARY KEY (link, line)
);

CREATE TABLE wf_verdicts (
    id       BYTEA PRIMARY KEY,
    idx      BIGINT NOT NULL,
    target   BYTEA NOT NULL,
    author   BYTEA NOT NULL,
    verdict  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    original BYTEA
);
CREATE UNIQUE INDEX wf_verdicts_once ON wf_verdicts (target, author, verdict);

CREATE TABLE wf_redactions (
    entry  BYTEA PRIMARY KEY,
    idx    BIGINT NOT NULL,
    author BYTEA NOT NULL,
    reason TEXT NOT NULL,
    rule   TEXT
);

-- Which entries carry a private-data commitment, and who may read it.
CREATE TABLE wf_commitments (
    entry      BYTEA PRIMARY KEY,
    commitment BYTEA NOT NULL,
    author     BYTEA NOT NULL
);
