//! Burn-up charts as inline SVG, drawn with plotters' SVG backend: done and
//! verified over time against the total. Colours come from the Okabe–Ito
//! palette (distinct for the common colour-vision deficiencies), and each
//! line also differs by shape — done has circles, verified triangles, the
//! total is dashed — so colour is never the only cue. The SVG carries a
//! title and a description for screen readers; the HTML report puts the
//! numbers in a table beside it.

use plotters::prelude::*;

use crate::ops::trend::{PeriodPoint, Series};

/// Okabe–Ito blue, vermillion, and a grey that keeps 4.5:1 on white.
const DONE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const VERIFIED: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const TOTAL: RGBColor = RGBColor(0x59, 0x59, 0x59);

/// How big a chart is drawn.
#[derive(Debug, Clone, Copy)]
pub struct ChartSize {
    pub width: u32,
    pub height: u32,
    /// Marker radius; small multiples use smaller ones.
    pub marker: u32,
    pub font: u32,
}

pub const LARGE: ChartSize = ChartSize { width: 880, height: 320, marker: 4, font: 13 };
pub const SMALL: ChartSize = ChartSize { width: 300, height: 150, marker: 2, font: 10 };

/// The SVG of `series` (at least one period), one point per period plus
/// the starting state, labelled for assistive
/// technology with `title` and `description`; `id` keeps the label ids
/// unique in the page.
pub fn burnup(series: &Series, size: ChartSize, id: &str, title: &str, description: &str) -> Result<String, String> {
    let mut svg = String::new();
    draw(series, size, &mut svg).map_err(|e| format!("drawing the chart failed: {e}"))?;
    Ok(label(&svg, id, title, description))
}

fn draw(series: &Series, size: ChartSize, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (size.width, size.height)).into_drawing_area();
    root.fill(&WHITE)?;
    // The line starts from the state before the first period, so even a
    // history of one period shows how far it moved.
    let points: Vec<&PeriodPoint> = std::iter::once(&series.before).chain(&series.periods).collect();
    let last = points.len() as i64 - 1;
    let top = series.total.max(1);
    let label_font = ("sans-serif", size.font).into_font().color(&BLACK);
    let mut chart = ChartBuilder::on(&root)
        .margin(size.font)
        // Room for the last date label, centred on the right edge.
        .margin_right(size.font * 4)
        .x_label_area_size(size.font * 2)
        .y_label_area_size(size.font * 4)
        .build_cartesian_2d(0i64..last, 0u64..top)?;
    let start_of = |i: &i64| points.get(*i as usize).map(|p| p.start.to_string()).unwrap_or_default();
    chart
        .configure_mesh()
        // One faint line between labelled ones (0 overflows plotters'
        // integer key-point search).
        .max_light_lines(1)
        .light_line_style(RGBColor(0xF2, 0xF2, 0xF2))
        .bold_line_style(RGBColor(0xE0, 0xE0, 0xE0))
        .axis_style(TOTAL)
        .x_labels(if size.width < 400 { 3 } else { 7 })
        .y_labels(if size.height < 200 { 3 } else { 6 })
        .x_label_formatter(&start_of)
        .label_style(label_font)
        .draw()?;
    let at = |i: usize, v: u64| (i as i64, v);
    chart.draw_series(DashedLineSeries::new((0..=last).map(|i| (i, series.total)), 6, 4, TOTAL.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(points.iter().enumerate().map(|(i, p)| at(i, p.verified)), VERIFIED.stroke_width(2)))?;
    chart.draw_series(points.iter().enumerate().map(|(i, p)| TriangleMarker::new(at(i, p.verified), size.marker as i32 + 1, VERIFIED.filled())))?;
    chart.draw_series(LineSeries::new(points.iter().enumerate().map(|(i, p)| at(i, p.done)), DONE.stroke_width(2)))?;
    chart.draw_series(points.iter().enumerate().map(|(i, p)| Circle::new(at(i, p.done), size.marker, DONE.filled())))?;
    root.present()?;
    Ok(())
}

/// Add the accessibility attributes to the root element and let CSS scale
/// the chart to its container.
fn label(svg: &str, id: &str, title: &str, description: &str) -> String {
    let body = svg.find('>').map_or(svg, |i| &svg[i + 1..]);
    let view_box = svg.split("viewBox=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("0 0 100 100");
    let (t, d) = (super::html::escape(title), super::html::escape(description));
    format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"{view_box}\" xmlns=\"http://www.w3.org/2000/svg\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{t}</title><desc id=\"{id}-desc\">{d}</desc>{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Day;

    fn series(done: &[u64]) -> Series {
        let periods = done
            .iter()
            .enumerate()
            .map(|(i, &d)| PeriodPoint { start: Day(i as i64 * 7), end: Day(i as i64 * 7 + 6), done: d, verified: d / 2, deferred: 0, stub: 0, total: 10, velocity: 0 })
            .collect();
        let before = PeriodPoint { start: Day(-7), end: Day(-1), done: 0, verified: 0, deferred: 0, stub: 0, total: 10, velocity: 0 };
        Series { total: 10, before, periods, changes: 0, unexplained: 0 }
    }

    #[test]
    fn one_marker_per_period_and_labels_for_screen_readers() {
        for (n, size) in [(1, SMALL), (3, LARGE), (60, LARGE)] {
            let done: Vec<u64> = (0..n).map(|i| (i as u64).min(10)).collect();
            let svg = burnup(&series(&done), size, "c", "Burn-up <all>", "Done went up").unwrap();
            assert_eq!(svg.matches("<circle").count(), n + 1, "done markers of {n} periods and the start");
            assert_eq!(svg.matches("<polygon").count(), n + 1, "verified markers of {n} periods and the start");
            assert!(svg.starts_with("<svg class=\"chart\" role=\"img\" viewBox=\"0 0 "), "{}", &svg[..120]);
            assert!(svg.contains("aria-labelledby=\"c-title c-desc\"><title id=\"c-title\">Burn-up &lt;all&gt;</title><desc id=\"c-desc\">Done went up</desc>"));
            assert_eq!(svg.matches("<svg").count(), 1, "one root element");
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }
}
