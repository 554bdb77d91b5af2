//! Domain tests against a real SQLite file, with time injected.
