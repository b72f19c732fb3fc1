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
