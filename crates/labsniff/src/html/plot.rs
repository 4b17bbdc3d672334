//! What the graphs share: a plot area mapping data to pixels, its axes, and the
//! `<g class="plot">` that the page's script zooms and pans.

use super::escape::num;
use std::fmt::Write as _;

pub const WIDTH: f64 = 760.0;
pub const HEIGHT: f64 = 340.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// Data ranges to pixels; y grows upwards in the data, downwards on screen.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    pub x_max: f64,
    pub y_max: f64,
}

impl Area {
    /// An area for data in `[0, x_max] × [0, y_max]` (a zero range is widened).
    pub fn new(x_max: f64, y_max: f64) -> Area {
        let fix = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
        Area {
            x_max: fix(x_max),
            y_max: fix(y_max) * 1.05,
        }
    }

    pub fn x(&self, v: f64) -> f64 {
        LEFT + (v / self.x_max) * (WIDTH - LEFT - RIGHT)
    }

    pub fn y(&self, v: f64) -> f64 {
        HEIGHT - BOTTOM - (v / self.y_max) * (HEIGHT - TOP - BOTTOM)
    }
}

/// Opens a graph: the `<svg data-graph=…>`, its axes with `ticks` labels each, and the
/// clipped `<g class="plot">` the caller fills (then calls [`close`]).
pub fn open(out: &mut String, graph: &str, id: &str, area: &Area, x_label: &str, y_label: &str) {
    let _ = write!(
        out,
        r#"<svg class="graph" data-graph="{graph}" id="{id}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"><clipPath id="{id}-clip"><rect x="{LEFT}" y="{TOP}" width="{}" height="{}"/></clipPath>"#,
        num(WIDTH - LEFT - RIGHT),
        num(HEIGHT - TOP - BOTTOM)
    );
    let (x0, y0) = (LEFT, HEIGHT - BOTTOM);
    let _ = write!(
        out,
        r#"<g class="axis"><line x1="{x0}" y1="{y0}" x2="{}" y2="{y0}"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{TOP}"/>"#,
        WIDTH - RIGHT
    );
    const TICKS: usize = 5;
    for i in 0..=TICKS {
        let f = i as f64 / TICKS as f64;
        let (xv, yv) = (area.x_max * f, area.y_max * f);
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            num(area.x(xv)),
            num(y0 + 14.0),
            tick(xv),
            num(x0 - 4.0),
            num(area.y(yv) + 4.0),
            tick(yv)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{x_label}</text><text x="12" y="{TOP}" transform="rotate(-90 12 {TOP})" text-anchor="end">{y_label}</text></g><g clip-path="url(#{id}-clip)"><g class="plot">"#,
        num((LEFT + WIDTH) / 2.0),
        num(HEIGHT - 6.0)
    );
}

/// Closes what [`open`] opened.
pub fn close(out: &mut String) {
    out.push_str("</g></g></svg>");
}

/// A tick's label: up to 3 significant decimals.
fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_grows_upwards_and_x_rightwards() {
        let a = Area::new(2.0, 1000.0);
        assert!(a.y(10.0) > a.y(900.0));
        assert!(a.x(0.5) < a.x(1.5));
        assert!(a.x(0.0) >= LEFT && a.x(2.0) <= WIDTH);
    }

    #[test]
    fn empty_ranges_do_not_divide_by_zero() {
        let a = Area::new(0.0, f64::NAN);
        assert!(a.x(0.0).is_finite() && a.y(0.0).is_finite());
    }
}
