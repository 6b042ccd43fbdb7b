//! The report as one self-contained HTML page: the stack drawn from the
//! wire (bottom) to the socket (top) as inline SVG, each layer with the
//! packets it lost, the losing layer marked, and the evidence beside it.
//! No script, no external resource: it opens from a file or in a notebook
//! cell as it is.

use std::fmt::{self, Write as _};

use super::{Layer, Report};

/// Escapes text for HTML element content and attribute values.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The picture alone (an `<svg>` element), for embedding.
pub struct StackSvg<'a>(pub &'a Report);

const ROW: u32 = 52;
const WIDTH: u32 = 760;

impl fmt::Display for StackSvg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let rows = Layer::STACK.len() as u32;
        let height = rows * ROW + 40;
        let max = r.layers.iter().map(|l| l.lost).max().unwrap_or(0).max(1);
        write!(
            f,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="network stack with lost packets per layer" font-family="sans-serif">"#
        )?;
        write!(
            f,
            r##"<text x="10" y="{}" font-size="12" fill="#555">wire</text><text x="10" y="16" font-size="12" fill="#555">application (recv)</text>"##,
            height - 6
        )?;
        // Top row: socket; bottom row: driver.
        for (i, layer) in Layer::STACK.iter().rev().enumerate() {
            let y = 24 + i as u32 * ROW;
            let lost = r.layer(*layer).map_or(0, |l| l.lost);
            let losing = r.verdict.layer == *layer;
            let (fill, stroke) = if losing {
                ("#fde2e1", "#c62828")
            } else if lost > 0 {
                ("#fff4e0", "#ef8f00")
            } else {
                ("#eef5ee", "#7aa77a")
            };
            write!(
                f,
                r#"<rect x="150" y="{y}" width="220" height="{}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{}"/>"#,
                ROW - 8,
                if losing { 3 } else { 1 }
            )?;
            write!(
                f,
                r##"<text x="260" y="{}" font-size="16" text-anchor="middle" fill="#222">{}</text>"##,
                y + 20,
                layer.name()
            )?;
            write!(
                f,
                r##"<text x="260" y="{}" font-size="11" text-anchor="middle" fill="#666">{}</text>"##,
                y + 36,
                Escaped(layer.tool())
            )?;
            let bar = (u64::from(WIDTH - 500) * lost / max) as u32;
            if lost > 0 {
                write!(
                    f,
                    r#"<rect x="390" y="{}" width="{}" height="18" fill="{stroke}"/>"#,
                    y + 12,
                    bar.max(2)
                )?;
            }
            write!(
                f,
                r##"<text x="{}" y="{}" font-size="13" fill="#222">{}</text>"##,
                395 + bar.max(2),
                y + 26,
                if lost > 0 { format!("{lost} lost") } else { "0".into() }
            )?;
            if losing {
                write!(
                    f,
                    r##"<text x="140" y="{}" font-size="22" text-anchor="end" fill="#c62828">&#x2192;</text>"##,
                    y + 28
                )?;
            }
        }
        f.write_str("</svg>")
    }
}

/// The report as one `<div>` with its own scoped style: what a notebook
/// cell shows (`_repr_html_`) and the body of [`HtmlPage`].
pub struct HtmlSection<'a>(pub &'a Report);

const STYLE: &str = "<style>.netobs-triage{font-family:sans-serif;color:#222;max-width:1100px}\
     .netobs-triage .verdict{border-left:6px solid #c62828;padding:8px 14px;background:#fdf3f3;margin:12px 0}\
     .netobs-triage .none{border-color:#2e7d32;background:#f1f8f1}\
     .netobs-triage table{border-collapse:collapse;margin:8px 0}\
     .netobs-triage td,.netobs-triage th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}\
     .netobs-triage th{background:#f4f4f4}.netobs-triage .muted{color:#666;font-size:13px}</style>";

/// The whole page.
pub struct HtmlPage<'a>(pub &'a Report);

impl fmt::Display for HtmlPage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
        write!(
            f,
            "<title>netobs triage: {}</title></head><body style=\"margin:24px\">",
            Escaped(&self.0.target)
        )?;
        write!(f, "{}", HtmlSection(self.0))?;
        f.write_str("</body></html>\n")
    }
}

impl fmt::Display for HtmlSection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        f.write_str(STYLE)?;
        f.write_str("<div class=\"netobs-triage\">")?;
        write!(
            f,
            "<h1>Where are the packets lost?</h1><p class=\"muted\">target: {} &middot; watched {:.1} s</p>",
            Escaped(&r.target),
            r.seconds
        )?;
        write!(
            f,
            "<div class=\"verdict{}\"><b>{}</b>{}<br>{}</div>",
            if r.verdict.layer == Layer::None { " none" } else { "" },
            Escaped(r.verdict.layer.name()),
            r.verdict
                .reason
                .as_ref()
                .map(|x| format!(" ({})", Escaped(x)))
                .unwrap_or_default(),
            Escaped(&r.verdict.summary)
        )?;
        write!(f, "{}", StackSvg(r))?;
        f.write_str("<h2>Evidence</h2><table><tr><th>layer</th><th>source</th><th>counter or reason</th><th>where</th><th>namespace</th><th>lost</th><th>confidence</th></tr>")?;
        for l in r.layers.iter().rev() {
            for e in &l.evidence {
                write!(
                    f,
                    "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    l.layer,
                    Escaped(e.source.name()),
                    Escaped(&e.name),
                    e.location
                        .as_ref()
                        .map(|x| format!(" at {}", Escaped(x)))
                        .unwrap_or_default(),
                    Escaped(&e.subject),
                    Escaped(&e.netns),
                    e.delta,
                    e.confidence
                )?;
            }
        }
        f.write_str("</table>")?;
        let obs: Vec<&String> = r.layers.iter().flat_map(|l| &l.observations).collect();
        if !obs.is_empty() {
            f.write_str("<h2>Observations</h2><ul>")?;
            for o in obs {
                write!(f, "<li>{}</li>", Escaped(o))?;
            }
            f.write_str("</ul>")?;
        }
        if !r.frames.is_empty() || r.frames_note.is_some() {
            f.write_str("<h2>Frames dropped as UNHANDLED_PROTO</h2><table><tr><th>device</th><th>source MAC</th><th>EtherType</th><th>frames</th></tr>")?;
            for g in &r.frames {
                write!(
                    f,
                    "<tr><td>{}</td><td>{}</td><td>0x{:04x}</td><td>{}</td></tr>",
                    Escaped(&g.device),
                    Escaped(&g.source),
                    g.ethertype,
                    g.count
                )?;
            }
            f.write_str("</table>")?;
            if let Some(n) = &r.frames_note {
                write!(f, "<p class=\"muted\">{}</p>", Escaped(n))?;
            }
        }
        if r.unattributed.total > 0 {
            write!(
                f,
                "<p class=\"muted\">Not the target's: {} kernel drops elsewhere on the host (",
                r.unattributed.total
            )?;
            for (i, (k, v)) in r.unattributed.by_reason.iter().take(5).enumerate() {
                write!(f, "{}{} {v}", if i > 0 { ", " } else { "" }, Escaped(k))?;
            }
            f.write_str("); they do not change the verdict.</p>")?;
        }
        if !r.missing.is_empty() {
            f.write_str("<h2>Not available here</h2><ul>")?;
            for m in &r.missing {
                write!(f, "<li>{}</li>", Escaped(m))?;
            }
            f.write_str("</ul>")?;
        }
        f.write_str("</div>")
    }
}
