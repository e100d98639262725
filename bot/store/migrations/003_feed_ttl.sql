-- How long the feed itself asks to be left alone (RSS ttl, sy:updatePeriod), from its last
-- parsed body: most polls get a 304, which carries no body, and must still honour it.
ALTER TABLE feeds ADD COLUMN ttl_s REAL;
