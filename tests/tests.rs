//! porttrack's integration tests: one binary, a fresh directory (and so a
//! fresh database) per test.

mod it;
