//! Terminal conventions and what a shell user installs: colour only where
//! asked for, plain piped output, `--version`, completions and man pages.

use std::process::Command;

use super::util::TestDir;

/// A database with items in coloured statuses (stub, deferred).
fn coloured_statuses(t: &TestDir) {
    t.ok(&["init"]);
    t.ok(&["batch", "update", "1", "--features", "1-2", "--status", "stub"]);
    t.ok(&["batch", "update", "1", "--features", "3", "--status", "deferred", "--reason", "needs the full server"]);
}

fn stdout_with(t: &TestDir, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = t.cmd();
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.args(args).output().expect("run porttrack");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

const COMMANDS: [&[&str]; 5] =
    [&["batch", "list"], &["batch", "show", "1"], &["feature", "list", "--batch", "1"], &["history"], &["report", "summary"]];

#[test]
fn piped_output_and_no_color_have_no_escape_codes() {
    let t = TestDir::new("no-color");
    coloured_statuses(&t);
    for args in COMMANDS {
        let plain = stdout_with(&t, &[], args);
        assert!(!plain.contains('\x1b'), "{args:?} piped has escape codes:\n{plain}");
        let no_color = stdout_with(&t, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], args);
        assert!(!no_color.contains('\x1b'), "{args:?} with NO_COLOR=1 has escape codes:\n{no_color}");
        assert_eq!(no_color, plain, "{args:?}: NO_COLOR output differs from piped output");
        let never = stdout_with(&t, &[("CLICOLOR_FORCE", "1")], &[args, &["--color", "never"]].concat());
        assert!(!never.contains('\x1b'), "{args:?} --color never has escape codes");
    }
}

#[test]
fn colour_when_forced_colours_statuses_only() {
    let t = TestDir::new("force-color");
    coloured_statuses(&t);
    let forced = stdout_with(&t, &[("CLICOLOR_FORCE", "1")], &["feature", "list", "--batch", "1"]);
    let stub_line = forced.lines().find(|l| l.contains(" Register ")).expect("feature 2 listed");
    assert!(stub_line.contains("\x1b[38;5;11mstub\x1b[39m"), "stub is yellow: {stub_line:?}");
    let plain_line = forced.lines().find(|l| l.contains("not_started")).expect("a not_started row");
    assert!(!plain_line.contains('\x1b'), "not_started stays plain: {plain_line:?}");
    let always = stdout_with(&t, &[], &["batch", "list", "--color", "always"]);
    assert!(always.contains("\x1b[38;5;11min_progress\x1b[39m"), "in_progress batch is yellow:\n{always}");
    // Colour never reaches JSON.
    let json = stdout_with(&t, &[("CLICOLOR_FORCE", "1")], &["batch", "list", "--json"]);
    assert!(!json.contains('\x1b'));
}

#[test]
fn piped_tables_keep_whole_rows() {
    let t = TestDir::new("whole-rows");
    coloured_statuses(&t);
    let reason = "a reason long enough that any terminal table would have to wrap it somewhere in the middle";
    t.ok(&["batch", "update", "1", "--features", "4", "--status", "deferred", "--reason", reason]);
    let out = stdout_with(&t, &[("COLUMNS", "40")], &["history"]);
    assert!(out.lines().any(|l| l.contains(reason)), "piped history keeps the reason on one line:\n{out}");
}

/// On a terminal (a pseudo-terminal from util-linux `script`), tables fit
/// its width and long cells wrap.
#[test]
fn terminal_tables_fit_the_width() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "`script` (util-linux) is missing in CI");
        eprintln!("skipping terminal_tables_fit_the_width: `script` (util-linux) is not installed");
        return;
    }
    let t = TestDir::new("tty-width");
    coloured_statuses(&t);
    t.ok(&["batch", "update", "1", "--features", "4", "--status", "deferred", "--reason", "a reason long enough to wrap inside a terminal of one hundred columns for sure"]);
    let bin = assert_cmd::cargo::cargo_bin("porttrack");
    let inner = format!("stty rows 40 cols 100; NO_COLOR=1 '{}' history", bin.display());
    let out = Command::new("script").args(["-qec", &inner, "/dev/null"]).current_dir(t.path()).output().expect("run script");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("a reason long"), "{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "line wider than the terminal: {line:?}");
    }
    assert!(!text.contains("for sure   "), "the reason wrapped: {text}");
}

#[test]
fn version_names_the_plan_and_port_commits() {
    let t = TestDir::new("version");
    let out = t.ok(&["--version"]);
    assert!(out.starts_with(&format!("porttrack {}\n", env!("CARGO_PKG_VERSION"))), "{out}");
    assert!(out.contains("built-in plan: github.com/nats-io/nats-server "), "{out}");
    assert!(out.contains("port (ported/): github.com/nats-io/nats-server 8188ea93a"), "{out}");
}

/// Each shell's script is generated, and checked by that shell's own parser
/// where the shell is installed (`.ci/run` installs bash, zsh and fish).
#[test]
fn completions_parse_in_their_shells() {
    let t = TestDir::new("completions");
    for (shell, check) in [("bash", Some(["bash", "-n"])), ("zsh", Some(["zsh", "-n"])), ("fish", Some(["fish", "-n"])), ("elvish", None), ("powershell", None)] {
        let script = t.ok(&["completions", shell]);
        assert!(script.contains("porttrack") && script.contains("verify"), "{shell} script lacks the commands");
        let Some([prog, flag]) = check else { continue };
        let path = t.join(&format!("porttrack.{shell}"));
        std::fs::write(&path, &script).expect("write script");
        match Command::new(prog).arg(flag).arg(&path).output() {
            Ok(out) => assert!(out.status.success(), "{shell} rejects its completion script: {}", String::from_utf8_lossy(&out.stderr)),
            Err(_) if std::env::var_os("CI").is_none() => eprintln!("skipping the {shell} syntax check: {prog} is not installed"),
            Err(e) => panic!("{prog} is missing in CI ({e}); .ci/run installs it"),
        }
    }
    let err = t.fails(&["completions", "tcsh"], 2);
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn man_pages_for_every_command() {
    let t = TestDir::new("man");
    let page = t.ok(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH porttrack 1"), "{page}");
    assert!(page.contains("verify"), "the top page lists the commands");
    std::fs::create_dir(t.join("man")).expect("mkdir");
    t.ok(&["man", "-o", "man"]);
    for name in ["porttrack.1", "porttrack-batch-show.1", "porttrack-report-summary.1", "porttrack-verify.1"] {
        let text = std::fs::read_to_string(t.join("man").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name} is not a man page");
    }
    assert!(!t.join("man/porttrack-builtin.1").exists(), "hidden developer commands get no page");
    let err = t.fails(&["man", "-o", "no-such-dir"], 2);
    assert!(err.contains("no-such-dir"), "{err}");
}

#[test]
fn new_commands_have_help_text() {
    let t = TestDir::new("new-help");
    for cmd in [&["report", "trend"][..], &["report", "html"], &["report", "markdown"], &["completions"], &["man"]] {
        let out = t.ok(&[cmd, &["--help"]].concat());
        assert!(out.lines().next().is_some_and(|l| l.len() > 10), "{cmd:?} has no description:\n{out}");
        assert!(out.contains("--color"), "{cmd:?} help lacks the global --color:\n{out}");
    }
    let top = t.ok(&["--help"]);
    assert!(top.contains("completions") && top.contains("man"), "{top}");
}
