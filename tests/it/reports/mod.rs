//! Progress reports over the history: trend, Markdown, HTML (and the HTML in
//! a real browser).

mod fixture;
mod markdown;
mod trend;
