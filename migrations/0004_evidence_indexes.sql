-- Staleness checks look up verified items by their evidence run on every
-- batch show and report summary; only the few items with evidence belong
-- in these indexes, so a large inventory costs nothing.
CREATE INDEX features_with_evidence ON features(evidence_run) WHERE evidence_run IS NOT NULL;
CREATE INDEX tests_with_evidence ON tests(evidence_run) WHERE evidence_run IS NOT NULL;
