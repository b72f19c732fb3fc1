//! porttrack: tracks a large code port in one SQLite file and proves its
//! progress with test evidence.
