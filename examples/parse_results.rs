//! Times the gate's result parsers on one file, for bench/p4_parse.sh:
//!
//! ```sh
//! cargo run --release --example parse_results -- FORMAT FILE [RUNS]
//! ```
//!
//! FORMAT is `auto` or a format name (`libtest`, `nextest-junit`,
//! `go-json`, `trx`, `junit`). The file is read once; parsing (and, for
//! `auto`, detection) is timed RUNS times (default 5). Prints one line:
//! the counts the parser found and the best and median wall time.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use porttrack::gate::parse;
use porttrack::gate::results::Format;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (format, file) = match args.as_slice() {
        [f, p] | [f, p, _] => (f.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: parse_results FORMAT FILE [RUNS]");
            return ExitCode::from(2);
        }
    };
    let runs: usize = match args.get(2).map(|r| r.parse()) {
        None => 5,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("RUNS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let fixed: Option<Format> = match format {
        "auto" => None,
        f => match f.parse() {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(7);
        }
    };
    let text = parse::decode(&bytes);
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let format = match fixed.or_else(|| parse::detect(&text)) {
            Some(f) => f,
            None => {
                eprintln!("{file}: format not recognised");
                return ExitCode::from(2);
            }
        };
        let parsed = parse::parse(format, &text);
        times.push(start.elapsed());
        last = Some((format, parsed));
    }
    let Some((format, parsed)) = last else {
        return ExitCode::from(2);
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(7);
        }
    };
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let c = parsed.counts();
    println!(
        "{format}: {} results ({} passed, {} failed, {} skipped), {} warning(s), {:.1} MB; best {:.1} ms, median {:.1} ms over {runs} run(s)",
        parsed.results.len(),
        c.passed,
        c.failed,
        c.skipped,
        parsed.warnings.len(),
        bytes.len() as f64 / 1e6,
        ms(times[0]),
        ms(times[times.len() / 2]),
    );
    ExitCode::SUCCESS
}
