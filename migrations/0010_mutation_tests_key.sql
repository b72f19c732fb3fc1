-- Mutation evidence names the tests it stands on (issue 11): tests_key is
-- the SHA-256 of the Rust tests run and of each file of test code their
-- targets compile (src/domain/mutation.rs, tests_key). Evidence whose tests
-- changed since it was made is stale, as evidence for a changed function
-- body is: a weakened test no longer stands on the mutants its earlier
-- version killed. NULL in runs recorded before this column existed (their
-- tests are not checked; their chain hashes do not cover it).
ALTER TABLE mutation_runs ADD COLUMN tests_key TEXT;
