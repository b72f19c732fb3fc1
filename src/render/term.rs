//! What the output stream can take: colour for statuses only when it is a
//! terminal (or forced), and the terminal's width so tables fit and long
//! cells wrap. Piped output stays plain and unwrapped, so scripts and diffs
//! see the same bytes whatever terminal ran them.
//!
//! Decided once per process by [`init`] from `--color`, `NO_COLOR`,
//! `CLICOLOR`/`CLICOLOR_FORCE` and whether stdout is a terminal; renderers
//! that run without it (unit tests, library use) get plain output.

use std::io::IsTerminal;
use std::sync::OnceLock;

use comfy_table::{Cell, Color};

use crate::domain::status::{BatchStatus, ItemStatus};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, unless NO_COLOR is set
    /// (CLICOLOR_FORCE forces it, CLICOLOR=0 turns it off)
    #[default]
    Auto,
    Always,
    Never,
}

/// How output is styled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminal {
    pub color: bool,
    /// Columns to fit tables into; `None` leaves rows whole.
    pub width: Option<u16>,
}

/// What the environment says, read once (kept apart so the rule is testable).
#[derive(Debug, Clone, Copy, Default)]
pub struct Environment {
    pub stdout_is_terminal: bool,
    pub no_color: bool,
    pub clicolor_force: bool,
    /// `CLICOLOR=0`.
    pub clicolor_off: bool,
    pub term_supports_color: bool,
    pub terminal_width: Option<u16>,
}

impl Environment {
    pub fn read() -> Environment {
        let stdout = std::io::stdout();
        let stdout_is_terminal = stdout.is_terminal();
        Environment {
            stdout_is_terminal,
            no_color: anstyle_query::no_color(),
            clicolor_force: anstyle_query::clicolor_force(),
            clicolor_off: anstyle_query::clicolor() == Some(false),
            term_supports_color: anstyle_query::term_supports_color(),
            terminal_width: if stdout_is_terminal { terminal_size::terminal_size_of(&stdout).map(|(w, _)| w.0) } else { None },
        }
    }
}

/// The rule: an explicit `--color always|never` wins; otherwise NO_COLOR
/// turns colour off, CLICOLOR_FORCE turns it on, CLICOLOR=0 off, and a
/// terminal that supports colour gets it. Widths apply only on a terminal.
pub fn decide(choice: ColorChoice, env: &Environment) -> Terminal {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !env.no_color && (env.clicolor_force || (!env.clicolor_off && env.stdout_is_terminal && env.term_supports_color))
        }
    };
    // Very narrow reported widths are more often a bogus size than a real
    // terminal; whole rows read better than one word per line.
    let width = env.terminal_width.filter(|&w| w >= 40);
    Terminal { color, width }
}

static CURRENT: OnceLock<Terminal> = OnceLock::new();

/// Decide for this process (the first call wins).
pub fn init(choice: ColorChoice) {
    let _ = CURRENT.set(decide(choice, &Environment::read()));
}

/// This process's decision; plain when [`init`] never ran.
pub fn current() -> Terminal {
    CURRENT.get().copied().unwrap_or_default()
}


fn item_color(s: ItemStatus) -> Option<Color> {
    match s {
        ItemStatus::NotStarted => None,
        ItemStatus::Stub => Some(Color::Yellow),
        ItemStatus::Complete => Some(Color::Cyan),
        ItemStatus::Verified => Some(Color::Green),
        ItemStatus::Deferred => Some(Color::Magenta),
        ItemStatus::NA => Some(Color::DarkGrey),
    }
}

fn batch_color(s: BatchStatus) -> Option<Color> {
    match s {
        BatchStatus::Pending => None,
        BatchStatus::InProgress => Some(Color::Yellow),
        BatchStatus::Done => Some(Color::Green),
    }
}

fn cell(text: String, color: Option<Color>) -> Cell {
    match color {
        Some(c) => Cell::new(text).fg(c),
        None => Cell::new(text),
    }
}

/// A table cell showing an item status (`text` may add to it, e.g. "(stale)").
pub fn item_status_cell(s: ItemStatus, text: String) -> Cell {
    cell(text, item_color(s))
}

pub fn batch_status_cell(s: BatchStatus) -> Cell {
    cell(s.to_string(), batch_color(s))
}

/// A batch status in running text: coloured only when colour is on.
pub fn batch_status_text(s: BatchStatus) -> String {
    match batch_color(s).filter(|_| current().color) {
        Some(c) => format!("\x1b[{}m{s}\x1b[0m", sgr(c)),
        None => s.to_string(),
    }
}

/// SGR foreground code of the colours used above.
fn sgr(c: Color) -> u8 {
    match c {
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Magenta => 35,
        Color::Cyan => 36,
        Color::DarkGrey => 90,
        _ => 39,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tty() -> Environment {
        Environment { stdout_is_terminal: true, term_supports_color: true, terminal_width: Some(100), ..Environment::default() }
    }

    #[test]
    fn colour_only_on_a_colour_terminal_unless_forced() {
        assert!(decide(ColorChoice::Auto, &tty()).color);
        assert!(!decide(ColorChoice::Auto, &Environment::default()).color, "a pipe is plain");
        assert!(!decide(ColorChoice::Auto, &Environment { term_supports_color: false, ..tty() }).color, "TERM=dumb");
        assert!(decide(ColorChoice::Auto, &Environment { clicolor_force: true, ..Environment::default() }).color);
        assert!(!decide(ColorChoice::Auto, &Environment { clicolor_off: true, ..tty() }).color);
    }

    #[test]
    fn no_color_beats_clicolor_force_but_not_an_explicit_flag() {
        let env = Environment { no_color: true, clicolor_force: true, ..tty() };
        assert!(!decide(ColorChoice::Auto, &env).color);
        assert!(decide(ColorChoice::Always, &env).color);
        assert!(!decide(ColorChoice::Never, &tty()).color);
    }

    #[test]
    fn width_only_from_a_real_terminal() {
        assert_eq!(decide(ColorChoice::Auto, &tty()).width, Some(100));
        assert_eq!(decide(ColorChoice::Auto, &Environment::default()).width, None);
        assert_eq!(decide(ColorChoice::Auto, &Environment { terminal_width: Some(12), ..tty() }).width, None);
    }
}
