fn main() {
    std::process::exit(porttrack::cli::run(std::env::args_os()));
}
