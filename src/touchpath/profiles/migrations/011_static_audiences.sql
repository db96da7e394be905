-- 11: static audiences
-- 'rule': members follow the condition in spec (refreshes recompute them); 'static': a
-- saved list (e.g. a funnel's drop-offs) that refreshes leave alone.
ALTER TABLE audiences ADD COLUMN kind VARCHAR NOT NULL DEFAULT 'rule';
