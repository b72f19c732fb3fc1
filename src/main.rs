use clap::Parser;

/// Tracks a large code port and proves its progress with test evidence.
#[derive(Parser)]
#[command(name = "porttrack", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
