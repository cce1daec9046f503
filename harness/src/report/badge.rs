//! A shields-style ("flat") SVG badge of the verdict: `credconform | conformant` in green,
//! `conformant with warnings` in yellow, `not conformant` in red. Self-contained: no fonts,
//! images or links are fetched.

use std::fmt::Write as _;

use maud::html;

use super::{Format, view::verdict_words};
use crate::run::{RunReport, Verdict};

/// Writes the verdict badge as SVG.
pub struct Badge;

impl Format for Badge {
    fn name(&self) -> &'static str {
        "badge"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        // The verdict's colour: shields' brightgreen, yellow and red.
        let color = match report.summary.verdict {
            Verdict::Conformant => "#4c1",
            Verdict::ConformantWithWarnings => "#dfb317",
            Verdict::NotConformant => "#e05d44",
        };
        let words = verdict_words(report).to_lowercase();
        Ok(svg("credconform", &words, color))
    }
}

/// Text escaped for XML content and double-quoted attribute values.
fn escape(text: &str) -> String {
    html! { (text) }.into_string()
}

/// A flat two-part badge: `label` on grey, `message` on `color`.
pub fn svg(label: &str, message: &str, color: &str) -> String {
    const PAD: f64 = 5.0;
    let label_text = text_width(label);
    let message_text = text_width(message);
    let label_w = (label_text + 2.0 * PAD).round();
    let message_w = (message_text + 2.0 * PAD).round();
    let width = label_w + message_w;
    let title = escape(&format!("{label}: {message}"));
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" \
         aria-label=\"{title}\"><title>{title}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{width}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{label_w}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{label_w}\" width=\"{message_w}\" height=\"20\" fill=\"{color}\"/>\
         <rect width=\"{width}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
         text-rendering=\"geometricPrecision\" font-size=\"110\">",
        color = escape(color),
    );
    for (text, centre, text_w) in [
        (label, label_w / 2.0, label_text),
        (message, label_w + message_w / 2.0, message_text),
    ] {
        // Drawn at ten times the size and scaled down, as shields does, for crisp text; the
        // shadow first, one unit lower.
        let x = (centre * 10.0).round();
        let len = (text_w * 10.0).round();
        let text = escape(text);
        let _ = write!(
            out,
            "<text aria-hidden=\"true\" x=\"{x}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\" \
             transform=\"scale(.1)\" textLength=\"{len}\">{text}</text>\
             <text x=\"{x}\" y=\"140\" transform=\"scale(.1)\" fill=\"#fff\" \
             textLength=\"{len}\">{text}</text>"
        );
    }
    out.push_str("</g></svg>\n");
    out
}

/// The width of `text` in Verdana at 11px, from the font's advance widths (an average for
/// characters outside ASCII); the SVG's `textLength` makes the rendering fit it exactly.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            ' ' | 'f' => 3.87,
            'i' | 'l' => 3.02,
            'j' => 3.74,
            't' => 4.33,
            'r' => 4.69,
            '-' => 4.72,
            'c' | 's' => 5.73,
            'z' => 5.90,
            'k' | 'v' | 'x' | 'y' => 6.49,
            'e' => 6.55,
            'a' => 6.60,
            'o' => 6.68,
            'b' | 'd' | 'g' | 'p' | 'q' => 6.85,
            'h' | 'n' | 'u' => 6.96,
            '0'..='9' => 6.99,
            'w' => 9.01,
            'm' => 10.70,
            'I' => 4.24,
            'A'..='Z' => 7.50,
            '.' | ',' | ':' | ';' | '|' => 3.90,
            _ => 7.00,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{report::sample, scenario::Level};

    fn attr<'a>(svg: &'a str, name: &str) -> &'a str {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        &svg[start..start + svg[start..].find('"').unwrap()]
    }

    #[test]
    fn each_verdict_has_its_words_and_colour() {
        let ok = sample::report(vec![sample::passed("A-1", "a", Level::Must)]);
        let warn = sample::report(vec![sample::failed("A-2", "a", Level::Should)]);
        let bad = sample::failing_report();
        let blocked = sample::blocked_report();
        for (report, words, colour) in [
            (ok, "conformant", "#4c1"),
            (warn, "conformant with warnings", "#dfb317"),
            (bad, "not conformant", "#e05d44"),
            (blocked, "not conformant", "#e05d44"),
        ] {
            let svg = Badge.render(&report).unwrap();
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            assert_eq!(attr(&svg, "aria-label"), format!("credconform: {words}"));
            assert!(svg.contains(&format!(">{words}</text>")), "{svg}");
            assert!(svg.contains(">credconform</text>"));
            assert!(svg.contains(&format!("fill=\"{colour}\"")));
            assert!(svg.ends_with("</g></svg>\n"));
        }
    }

    #[test]
    fn width_fits_the_text_and_parts_add_up() {
        let short = svg("credconform", "conformant", "#4c1");
        let long = svg("credconform", "conformant with warnings", "#dfb317");
        let w = |s: &str| attr(s, "width").parse::<f64>().unwrap();
        assert!(w(&long) > w(&short) + 60.0, "{} {}", w(&long), w(&short));
        // The grey part is as wide for both; the coloured part starts where it ends.
        let label_w: f64 = short
            .split("<rect width=\"")
            .nth(2)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(short.contains(&format!(
            "<rect x=\"{label_w}\" width=\"{}\"",
            w(&short) - label_w
        )));
        // Shields' own badge for the label is 81 px wide; stay close to it.
        assert!((75.0..=90.0).contains(&label_w), "{label_w}");
    }

    #[test]
    fn text_is_escaped_and_nothing_is_fetched() {
        let s = svg("a<b", "c&d", "#4c1");
        assert!(s.contains(">a&lt;b</text>") && s.contains(">c&amp;d</text>"));
        assert!(!s.contains("href") && !s.contains("<image") && !s.contains("@import"));
    }
}
