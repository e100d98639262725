-- Times are ISO-8601 UTC strings ("2026-11-22T11:05:00+00:00"), so they sort as text.

CREATE TABLE feeds (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL UNIQUE,
    title            TEXT,
    etag             TEXT,
    last_modified    TEXT,
    next_check_at    TEXT NOT NULL,
    last_checked_at  TEXT,
    last_success_at  TEXT,
    last_new_item_at TEXT,
    update_interval_s REAL,          -- observed mean gap between new items
    error_count      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    disabled_reason  TEXT,
    added_by         TEXT NOT NULL DEFAULT 'config',
    allow_private    INTEGER NOT NULL DEFAULT 0,
    backfill         INTEGER NOT NULL DEFAULT 0,
    first_poll_done  INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);

CREATE TABLE stories (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    importance    INTEGER NOT NULL,
    topics        TEXT NOT NULL DEFAULT '[]',   -- JSON list
    entities      TEXT NOT NULL DEFAULT '[]',   -- JSON list of canonical names
    main_entity   TEXT,
    explanation   TEXT NOT NULL DEFAULT '',
    signature     TEXT NOT NULL DEFAULT '{}',   -- JSON: the clustering state of the story
    article_count INTEGER NOT NULL DEFAULT 0,
    outlet_count  INTEGER NOT NULL DEFAULT 0,
    relevant      INTEGER NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL
);
CREATE INDEX stories_last_seen ON stories (last_seen);

CREATE TABLE articles (
    id           TEXT PRIMARY KEY,
    feed_id      INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    guid         TEXT,
    url          TEXT,                 -- canonical: tracking parameters removed
    content_hash TEXT NOT NULL,
    title        TEXT NOT NULL,
    source       TEXT,
    author       TEXT,
    published    TEXT,
    fetched      TEXT NOT NULL,
    text         TEXT NOT NULL,
    triage       TEXT,                 -- JSON of Triage
    relevant     INTEGER NOT NULL DEFAULT 0,
    importance   INTEGER NOT NULL DEFAULT 0,
    story_id     TEXT REFERENCES stories (id) ON DELETE SET NULL,
    alertable    INTEGER NOT NULL DEFAULT 1  -- 0 for old items of a new feed's first poll
);
CREATE INDEX articles_feed_guid ON articles (feed_id, guid);
CREATE INDEX articles_url ON articles (url);
CREATE INDEX articles_hash ON articles (content_hash);
CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX articles_fetched ON articles (fetched);

-- What a story gained after its first article: routing turns these into follow-ups.
CREATE TABLE story_updates (
    id         INTEGER PRIMARY KEY,
    story_id   TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    article_id TEXT NOT NULL,
    kind       TEXT NOT NULL,          -- 'created' | 'outlet' | 'facts'
    detail     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    routed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX story_updates_unrouted ON story_updates (routed, id);

CREATE TABLE cards (
    story_id   TEXT PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    card       TEXT NOT NULL,          -- JSON of Card
    backend    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE subscriptions (
    id                  INTEGER PRIMARY KEY,
    platform            TEXT NOT NULL,
    workspace           TEXT NOT NULL DEFAULT '',
    channel             TEXT NOT NULL,
    topics              TEXT NOT NULL DEFAULT '[]',
    entities            TEXT NOT NULL DEFAULT '[]',
    include_words       TEXT NOT NULL DEFAULT '[]',
    exclude_words       TEXT NOT NULL DEFAULT '[]',
    min_importance      INTEGER NOT NULL DEFAULT 50,
    mode                TEXT NOT NULL DEFAULT 'alerts',
    digest              TEXT,
    digest_time         TEXT NOT NULL DEFAULT '09:00',
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    max_alerts_per_hour INTEGER NOT NULL DEFAULT 6,
    quiet_start         TEXT,
    quiet_end           TEXT,
    paused_reason       TEXT,
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL,
    UNIQUE (platform, channel)
);

-- The outbox. A row exists before anything is sent.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    story_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,     -- 'alert' | 'followup' | 'digest'
    update_id       INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT,
    last_error      TEXT,
    message_id      TEXT,
    thread_id       TEXT,
    payload         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscription_id, story_id, kind, update_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
