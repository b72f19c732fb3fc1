//! JetStream API errors the meta layer returns (the entries of upstream's
//! `jetstream_errors_generated.go` it uses), with their JSON shape.

use serde::{Deserialize, Serialize};

use crate::raft::RaftError;

/// An API error as it appears in responses (Go: `ApiError`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub err_code: u16,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (err_code {}, status {})", self.description, self.err_code, self.code)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn new(code: i64, err_code: u16, description: impl Into<String>) -> Self {
        ApiError { code, err_code, description: description.into() }
    }

    /// Go: `NewJSNotEnabledError` (10076).
    pub fn not_enabled() -> Self {
        Self::new(503, 10076, "JetStream not enabled")
    }

    /// Go: `NewJSNotEnabledForAccountError` (10039).
    pub fn not_enabled_for_account() -> Self {
        Self::new(503, 10039, "JetStream not enabled for account")
    }

    /// Go: `NewJSClusterNotActiveError` (10006).
    pub fn cluster_not_active() -> Self {
        Self::new(500, 10006, "JetStream not in clustered mode")
    }

    /// Go: `NewJSClusterNoPeersError` (10005), "{err}".
    pub fn cluster_no_peers(err: &str) -> Self {
        Self::new(400, 10005, err)
    }

    /// Go: `NewJSRaftGeneralError` (10041), "{err}".
    pub fn from_raft(err: &RaftError) -> Self {
        Self::new(500, 10041, err.to_string())
    }

    /// Go: `NewJSStreamDuplicateMessageConflictError` (10158).
    pub fn duplicate_message_conflict() -> Self {
        Self::new(409, 10158, "duplicate message id is in process")
    }

    /// Go: `NewJSRaftGeneralError` (10041) for an error that is not a raft one.
    pub fn general(err: &str) -> Self {
        Self::new(500, 10041, err)
    }

    /// Go: `NewJSInvalidJSONError` (10025), "invalid JSON: {err}".
    pub fn invalid_json(err: &str) -> Self {
        Self::new(400, 10025, format!("invalid JSON: {err}"))
    }

    /// Go: `NewJSRequiredApiLevelError` (10185).
    pub fn required_api_level() -> Self {
        Self::new(412, 10185, "JetStream minimum api level required")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_go_codes_and_json_shape() {
        let e = ApiError::cluster_no_peers("preferred server \"S-9\" not known");
        assert_eq!((e.code, e.err_code), (400, 10005));
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"code":400,"err_code":10005,"description":"preferred server \"S-9\" not known"}"#
        );
        assert_eq!(ApiError::from_raft(&RaftError::NotLeader).description, "raft: not leader");
        assert_eq!((ApiError::not_enabled().code, ApiError::not_enabled().err_code), (503, 10076));
        assert_eq!(ApiError::invalid_json("x").description, "invalid JSON: x");
        assert_eq!(ApiError::required_api_level().err_code, 10185);
        assert_eq!(ApiError::cluster_not_active().err_code, 10006);
        assert_eq!(ApiError::not_enabled_for_account().err_code, 10039);
    }
}
