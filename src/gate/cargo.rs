//! What cargo says about the workspace a gate runs in, so libtest results
//! get exact binary ids (`beta-pkg::api`, not a guess from file names).

use std::path::Path;
use std::time::Duration;

use super::parse::libtest::CargoTargets;

/// Is `argv` a cargo command whose output is libtest's?
pub fn is_cargo(argv: &[String]) -> bool {
    argv.first().and_then(|p| Path::new(p).file_name()).is_some_and(|n| n == "cargo" || n == "cargo.exe")
}

/// The workspace's test targets from `cargo metadata --no-deps` run in
/// `dir`; None when cargo cannot say (not a workspace, no cargo, too slow).
pub fn workspace_targets(dir: &Path) -> Option<CargoTargets> {
    let expr = duct::cmd("cargo", ["metadata", "--format-version", "1", "--no-deps", "--offline"]).dir(dir).stdin_null().stderr_null().stdout_capture().unchecked();
    let handle = expr.start().ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match handle.try_wait() {
            Ok(Some(out)) if out.status.success() => return CargoTargets::from_metadata(&String::from_utf8_lossy(&out.stdout)),
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() > deadline => {
                let _ = handle.kill();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
