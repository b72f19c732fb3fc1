//! The port draws time and randomness only from the simulator: no wall
//! clock, no unseeded randomness, no real network anywhere in
//! `ported/src` outside `sim/`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// What a file may not use, with why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("Instant", "reads the wall clock"),
    ("SystemTime", "reads the wall clock"),
    ("UNIX_EPOCH", "reads the wall clock"),
    ("thread_rng", "unseeded randomness"),
    ("rand::", "unseeded randomness"),
    ("getrandom", "unseeded randomness"),
    ("RandomState", "randomly seeded hashing"),
    ("std::net", "the real network"),
    ("thread::sleep", "waits on the wall clock"),
];

fn offences(src: &str) -> Vec<(usize, &'static str, &'static str)> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (pat, why) in FORBIDDEN {
            if code.contains(pat) {
                out.push((n + 1, *pat, *why));
            }
        }
    }
    out
}

#[test]
fn no_wall_clock_or_unseeded_randomness_outside_sim() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sim = src.join("sim");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources ({} files)", files.len());
    let mut bad = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&sim)) {
        let text = std::fs::read_to_string(f).expect("readable source");
        for (line, pat, why) in offences(&text) {
            bad.push(format!("{}:{line}: `{pat}` {why}", f.display()));
        }
    }
    assert!(bad.is_empty(), "outside ported/src/sim:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_each_forbidden_use() {
    let sample = "use std::time::Instant;\nlet t = SystemTime::now();\n// Instant in a comment is fine\nlet r = rand::random();\nlet s = std::net::TcpStream::connect(a);";
    let found: Vec<&str> = offences(sample).into_iter().map(|(_, p, _)| p).collect();
    assert_eq!(found, vec!["Instant", "SystemTime", "rand::", "std::net"]);
    assert!(offences("let d = std::time::Duration::from_secs(1);").is_empty());
}
