mod util;

mod audit;
mod cli_basics;
mod concurrency;
mod database_errors;
mod evidence;
mod gates;
mod import_go;
mod mapping;
mod read_commands;
mod schema;
mod stub_scan;
mod update;
