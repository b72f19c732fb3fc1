//! `porttrack report summary|trend|html|markdown`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::Ctx;
use crate::domain::calendar::{Day, Granularity};
use crate::domain::idlist::{self, ListItem};
use crate::error::Error;
use crate::exit_codes;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Overall progress (done = complete + verified + n_a), counts by status,
    /// by batch, and the files with the most work left
    Summary,
    /// Done, verified, deferred and stub per day or week, replayed from the
    /// history, with the velocity and a projected finish
    Trend(TrendArgs),
    /// A pull-request comment in GitHub-flavoured Markdown: totals, what
    /// moved since a git revision or evidence run, regressions, stale items
    Markdown(MarkdownArgs),
    /// One self-contained HTML page: burn-up charts, every batch, stale and
    /// regressed items, and the items of the plan batches (no scripts, no
    /// network)
    Html(HtmlArgs),
}

/// `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Day,
    Week,
}

impl From<By> for Granularity {
    fn from(b: By) -> Granularity {
        match b {
            By::Day => Granularity::Day,
            By::Week => Granularity::Week,
        }
    }
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Only the items of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Period length (weeks run Monday to Sunday, UTC)
    #[arg(long, value_enum, default_value_t = By::Week)]
    pub by: By,
    /// First day to show, YYYY-MM-DD [default: the first recorded change]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<Day>,
    /// Last day to show, YYYY-MM-DD [default: today, UTC]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<Day>,
}

#[derive(Debug, Args)]
pub struct MarkdownArgs {
    /// Only the items of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// List what changed after REF: a git revision (its commit time, e.g.
    /// origin/main) or run:N (the start of evidence run N)
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct HtmlArgs {
    /// Write the page to FILE (replaced only once complete) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Period of the charts [default: day when the history spans at most 60 days, else week]
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Last day charted, YYYY-MM-DD [default: today, UTC]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<Day>,
    /// Batches to chart and list items of, e.g. 30-36 [default: the built-in
    /// plan's 30-36; for other databases the batches in progress]
    #[arg(long, value_name = "LIST")]
    pub batches: Option<String>,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|e| e.to_string())
}

pub fn run(ctx: &Ctx, cmd: ReportCommand) -> anyhow::Result<i32> {
    match cmd {
        ReportCommand::Summary => {
            let db = ctx.open_db()?;
            let mut summary = ops::report::summary(&db)?;
            summary.stale = ops::stale::stale_items(&db, &ctx.project_root_for(&db)?, None)?;
            ctx.emit("report summary", &summary, render::report::summary)
        }
        ReportCommand::Trend(a) => {
            let db = ctx.open_db()?;
            let window = ops::trend::Window { by: a.by.into(), since: a.since, until: a.until.unwrap_or_else(Day::today) };
            let trend = ops::trend::trend(&db, a.batch, window)?;
            ctx.emit("report trend", &trend, render::trend::trend)
        }
        ReportCommand::Markdown(a) => {
            let db = ctx.open_db()?;
            let root = ctx.project_root_for(&db)?;
            let since = a.since.as_deref().map(|r| ops::since::resolve(&db, &root, r)).transpose()?;
            let summary = ops::pull_request::summary(&db, &root, a.batch, since)?;
            ctx.emit("report markdown", &summary, render::markdown::pull_request)
        }
        ReportCommand::Html(a) => {
            let batches = a.batches.as_deref().map(batch_numbers).transpose()?;
            let db = ctx.open_db()?;
            let today = a.until.unwrap_or_else(Day::today);
            let opts = ops::progress_report::Options { by: a.by.map(Into::into), batches, today, generated_at: crate::clock::now_rfc3339() };
            let report = ops::progress_report::gather(&db, &ctx.project_root_for(&db)?, opts)?;
            let text = if ctx.json { render::json("report html", &report) } else { render::html::report(&report).map_err(|e| anyhow::anyhow!("rendering the report: {e}"))? };
            write_output(a.output.as_deref(), &text)?;
            Ok(exit_codes::SUCCESS)
        }
    }
}

/// `30-36,40` → batch numbers (no names: batches have none to look up).
fn batch_numbers(text: &str) -> Result<Vec<i64>, Error> {
    let mut out = Vec::new();
    for item in idlist::parse_list(text)? {
        match item {
            ListItem::Id(n) => out.push(n),
            ListItem::Range(a, b) => out.extend(a..=b),
            ListItem::Name { name, .. } => return Err(Error::usage(format!("--batches {text}: '{name}' is not a batch number"))),
        }
    }
    out.dedup();
    Ok(out)
}

/// Print `text`, or write it to `path` through a file beside it that is
/// renamed into place, so a reader never sees half a page.
fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        return out.write_all(text.as_bytes()).and_then(|_| out.flush()).context("writing output");
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::usage(format!("cannot write {}: directory {} does not exist", path.display(), dir.display())).into());
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".porttrack-tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::CouldNotRun(format!("cannot write {}: {e}", path.display())).into());
    }
    eprintln!("porttrack: wrote {}", path.display());
    Ok(())
}
