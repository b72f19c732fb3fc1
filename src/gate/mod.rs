//! Test gates: run a build or test command, parse what it reports into
//! typed results, and record the run as evidence.

pub mod cargo;
pub mod parse;
pub mod results;
pub mod run;
