mod util;

mod cli_basics;
mod concurrency;
mod database_errors;
mod gates;
mod hostile_input;
mod import_go;
mod mapping;
mod read_commands;
mod processes;
mod real_runners;
mod reports;
mod schema;
mod stub_scan;
mod terminal;
mod update;
