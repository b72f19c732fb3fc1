mod util;

mod cli_basics;
mod concurrency;
mod database_errors;
mod dotnet;
mod gates;
mod import_go;
mod mapping;
mod modules;
mod numbering;
mod read_commands;
mod schema;
mod stub_scan;
mod update;
mod upstream;
