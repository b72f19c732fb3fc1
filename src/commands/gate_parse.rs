//! `porttrack gate parse`: read a test tool's output (or results file) and
//! print the typed results the gate would take from it. Records nothing.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::error::Error;
use crate::gate::parse;
use crate::gate::results::Format;
use crate::render;
use crate::render::gate_parse::ParsedFile;

const AFTER_HELP: &str = "\
Formats: libtest (cargo test's text output), nextest-junit (cargo nextest's
JUnit report), go-json (go test -json), trx (dotnet test --logger trx),
junit (generic JUnit XML). auto sniffs the first recognisable line.
Exit 0 when the file was read as results, whatever the tests' outcomes;
2 when the format cannot be told (pass --format); 7 when the file cannot be
read or is not in the format.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct GateParseArgs {
    /// Format of FILE: auto, libtest, nextest-junit, go-json, trx or junit
    #[arg(long, default_value = "auto", value_name = "FORMAT", value_parser = format_arg)]
    pub format: FormatArg,
    /// The tool's output or results file (`-` for standard input)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `--format`: a fixed format, or `None` to sniff it.
#[derive(Debug, Clone, Copy)]
pub struct FormatArg(pub Option<Format>);

fn format_arg(s: &str) -> Result<FormatArg, String> {
    if s == "auto" {
        Ok(FormatArg(None))
    } else {
        s.parse().map(|f| FormatArg(Some(f)))
    }
}

pub fn run(ctx: &Ctx, args: GateParseArgs) -> anyhow::Result<i32> {
    let shown = args.file.display().to_string();
    let bytes = read(&args).map_err(|e| Error::CouldNotRun(format!("cannot read {shown}: {e}")))?;
    let text = parse::decode(&bytes);
    let (format, detected) = match args.format.0 {
        Some(f) => (f, false),
        None => {
            let f = parse::detect(&text).ok_or_else(|| {
                Error::usage(format!(
                    "cannot tell the format of {shown}: no libtest, go test -json, JUnit or TRX output found; pass --format {}",
                    Format::ALL.map(Format::as_str).join("|")
                ))
            })?;
            (f, true)
        }
    };
    let parsed = parse::parse(format, &text).map_err(|e| Error::CouldNotRun(format!("{shown}: {e}")))?;
    let out = ParsedFile {
        file: shown,
        format,
        detected,
        counts: parsed.counts(),
        parsed,
    };
    ctx.emit("gate parse", &out, render::gate_parse::parsed_file)
}

fn read(args: &GateParseArgs) -> std::io::Result<Vec<u8>> {
    if args.file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(&args.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_arg_takes_auto_or_a_format_name() {
        assert_eq!(format_arg("auto").map(|f| f.0), Ok(None));
        assert_eq!(format_arg("go-json").map(|f| f.0), Ok(Some(Format::GoJson)));
        assert_eq!(format_arg("nextest-junit").map(|f| f.0), Ok(Some(Format::NextestJunit)));
        let e = format_arg("xml").expect_err("unknown");
        assert!(e.contains("unknown format 'xml'"), "{e}");
    }
}
