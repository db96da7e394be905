-- 21: journey copy: small integer codes of the activity names
-- The journey copy's activity (event name, or type) as an integer, named by
-- journey_names, so the DFG compares and groups integers instead of text. Copies built
-- before this have no codes: they count as stale until the next `touchpath optimize`.
ALTER TABLE journey_events ADD COLUMN code INTEGER;
CREATE TABLE journey_names (code INTEGER NOT NULL, name VARCHAR NOT NULL);
DELETE FROM journey_build;
