mod util;

mod cli_basics;
mod concurrency;
mod database_errors;
mod gates;
mod import_go;
mod mapping;
mod read_commands;
mod reports;
mod schema;
mod stub_scan;
mod terminal;
mod update;
