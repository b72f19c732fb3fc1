//! Progress reports over the history: trend, Markdown, HTML (and the HTML in
//! a real browser).

mod browser;
mod cdp;
mod fixture;
mod html;
mod markdown;
mod trend;
