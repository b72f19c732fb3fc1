//! `porttrack report summary|trend|html|markdown`.

use clap::{Args, Subcommand, ValueEnum};

use super::Ctx;
use crate::domain::calendar::{Day, Granularity};
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

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|e| e.to_string())
}

pub fn run(ctx: &Ctx, cmd: ReportCommand) -> anyhow::Result<i32> {
    match cmd {
        ReportCommand::Summary => {
            let db = ctx.open_db()?;
            let mut summary = ops::report::summary(&db)?;
            summary.stale = ops::stale::stale_items(&db, &ctx.project_root(), None)?;
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
            let root = ctx.project_root();
            let since = a.since.as_deref().map(|r| ops::since::resolve(&db, &root, r)).transpose()?;
            let summary = ops::pull_request::summary(&db, &root, a.batch, since)?;
            ctx.emit("report markdown", &summary, render::markdown::pull_request)
        }
    }
}
