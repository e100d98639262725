-- Stories folded into another (a later report showed they were one event) leave their id here,
-- so an id already posted in an alert still finds its story.
CREATE TABLE story_aliases (
    alias    TEXT PRIMARY KEY,
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE
);
CREATE INDEX story_aliases_story ON story_aliases (story_id);
