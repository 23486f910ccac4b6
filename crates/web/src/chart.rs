//! Server-side SVG charts: no script, no font measuring (the browser lays out the Chinese
//! labels), and they print as sharply as the text around them.

use std::fmt::Write;

/// One row of a bar chart: a value and, optionally, the value it is compared with. Each bar
/// links to the records behind it.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub href: String,
    pub compare: Option<f64>,
    pub compare_href: Option<String>,
}

const LABEL_WIDTH: f64 = 200.0;
const BAR_AREA: f64 = 420.0;
const ROW: f64 = 34.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Horizontal bars of rates (0..1), the current period dark and the compared one light; a bar
/// without a rate says `empty` (what there was none of to compute it).
pub fn rate_bars(title: &str, empty: &str, current: &str, compared: Option<&str>, bars: &[Bar]) -> String {
    let max = bars.iter().flat_map(|b| [b.value, b.compare]).flatten().fold(0.0_f64, f64::max).max(0.01);
    let height = 40.0 + ROW * bars.len() as f64 + 10.0;
    let width = LABEL_WIDTH + BAR_AREA + 80.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    // Legend.
    let _ = write!(
        svg,
        r##"<rect x="{LABEL_WIDTH}" y="6" width="12" height="12" fill="#1f5fa8"/><text x="{}" y="17" font-size="12">{}</text>"##,
        LABEL_WIDTH + 16.0,
        escape(current)
    );
    if let Some(c) = compared {
        let _ = write!(
            svg,
            r##"<rect x="{}" y="6" width="12" height="12" fill="#9dbbe0"/><text x="{}" y="17" font-size="12">{}</text>"##,
            LABEL_WIDTH + 200.0,
            LABEL_WIDTH + 216.0,
            escape(c)
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = 34.0 + ROW * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="13" text-anchor="end">{}</text>"##,
            LABEL_WIDTH - 8.0,
            y + 14.0,
            escape(&b.label)
        );
        let mut bar = |value: Option<f64>, href: &str, dy: f64, h: f64, fill: &str| {
            let Some(v) = value else {
                let _ = write!(
                    svg,
                    r##"<text x="{LABEL_WIDTH}" y="{}" font-size="11" fill="#777">{}</text>"##,
                    y + dy + h - 2.0,
                    escape(empty)
                );
                return;
            };
            let w = (v / max * BAR_AREA).max(1.0);
            let _ = write!(
                svg,
                r##"<a href="{}"><rect x="{LABEL_WIDTH}" y="{}" width="{w:.1}" height="{h}" fill="{fill}"><title>{}</title></rect></a><text x="{:.1}" y="{}" font-size="11">{}</text>"##,
                escape(href),
                y + dy,
                percent(v),
                LABEL_WIDTH + w + 4.0,
                y + dy + h - 2.0,
                percent(v)
            );
        };
        if compared.is_some() {
            bar(b.value, &b.href, 0.0, 13.0, "#1f5fa8");
            bar(b.compare, b.compare_href.as_deref().unwrap_or(&b.href), 14.0, 11.0, "#9dbbe0");
        } else {
            bar(b.value, &b.href, 2.0, 18.0, "#1f5fa8");
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_rate_and_link_to_their_cases() {
        let svg = rate_bars(
            "超期率",
            "无已定案办件",
            "2011",
            Some("2010"),
            &[
                Bar {
                    label: "秀英区<政务>".into(),
                    value: Some(0.5),
                    href: "/cases?a=1&b=2".into(),
                    compare: Some(0.25),
                    compare_href: None,
                },
                Bar {
                    label: "龙华区".into(), value: None, href: "/x".into(), compare: Some(0.1), compare_href: None
                },
            ],
        );
        assert!(svg.contains(r#"width="420.0""#), "the largest rate fills the bar area");
        assert!(svg.contains(r#"width="210.0""#));
        assert!(svg.contains("秀英区&lt;政务&gt;"));
        assert!(svg.contains(r#"href="/cases?a=1&amp;b=2""#));
        assert!(svg.contains("无已定案办件"));
        assert!(svg.contains("50.0%"));
    }
}
