//! Typed errors that decide the exit code. Domain and database code return
//! these (possibly wrapped in `anyhow` context); `main` finds the first one in
//! the chain and exits with its code.

use std::path::PathBuf;

use crate::exit_codes;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{kind} not found: {value}{hint}")]
    NotFound {
        kind: &'static str,
        value: String,
        hint: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("database {path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error("database {path} is busy: another writer held the lock for more than {timeout_ms} ms; nothing was written, retry")]
    Busy { path: PathBuf, timeout_ms: u64 },
    #[error("{0}")]
    CouldNotRun(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit_codes::USAGE,
            Error::NotFound { .. } => exit_codes::NOT_FOUND,
            Error::Refused(_) => exit_codes::REFUSED,
            Error::Database { .. } => exit_codes::DATABASE,
            Error::Busy { .. } => exit_codes::BUSY,
            Error::CouldNotRun(_) => exit_codes::COULD_NOT_RUN,
        }
    }

    /// The error's kind as `--json` output names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::NotFound { .. } => "not_found",
            Error::Refused(_) => "refused",
            Error::Database { .. } => "database",
            Error::Busy { .. } => "busy",
            Error::CouldNotRun(_) => "could_not_run",
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub fn not_found(kind: &'static str, value: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            value: value.into(),
            hint: String::new(),
        }
    }

    pub fn not_found_with_hint(kind: &'static str, value: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            value: value.into(),
            hint: hint.into(),
        }
    }
}

/// Kind of an error chain for `--json` (see [`Error::kind`]); untyped
/// errors are failures at the edge, like their exit code says.
pub fn kind_for(err: &anyhow::Error) -> &'static str {
    err.chain().find_map(|c| c.downcast_ref::<Error>()).map_or("could_not_run", Error::kind)
}

/// An error as the one JSON object `--json` prints instead of text:
/// `{"schema_version": 1, "error": {"kind": "…", "message": "…"}}`.
pub fn json_error(kind: &str, message: &str) -> String {
    let v = serde_json::json!({
        "schema_version": crate::render::SCHEMA_VERSION,
        "error": { "kind": kind, "message": message },
    });
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    text
}

/// Exit code for an error chain: the first typed [`Error`] wins; anything
/// untyped is a database or I/O failure at the edge.
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return e.exit_code();
        }
    }
    exit_codes::COULD_NOT_RUN
}
