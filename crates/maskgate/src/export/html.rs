//! `report.html`: the report document ([`super::document`]) as one self-contained page a
//! reviewer reads in a browser, with the charts, thumbnails and per-check details Markdown
//! leaves out. There is no script, nothing is fetched, and a Content-Security-Policy allows
//! only the page's own stylesheet (by hash) and images beside it. Every piece of text (ids,
//! names, notes, paths, run ids) goes through [`esc`].

use super::Exporter;
use crate::report::Report;
use sha2::{Digest, Sha256};
use std::io::Write;

pub struct ReportHtml;

/// The page's one stylesheet (the policy allows it by hash).
pub const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}h3{margin-top:1.5rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}th,td{border:1px solid #d4d4d4;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.verdict{padding:1rem 1.2rem;border-radius:.4rem;margin:1rem 0;font-size:1.05rem}
.verdict.good{background:#e3f5e5;border:2px solid #2e8b3d}.verdict.bad{background:#fde4e4;border:2px solid #c0392b}.verdict.open{background:#fff4d6;border:2px solid #c98b00}
.badge{display:inline-block;padding:0 .45rem;border-radius:.3rem;font-weight:600;font-size:.85rem}
.badge.good{background:#2e8b3d;color:#fff}.badge.bad{background:#c0392b;color:#fff}.badge.open{background:#c98b00;color:#fff}
tr.bad td{background:#fde4e4}tr.open td{background:#fff4d6}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.charts figure{margin:0}
figcaption{font-size:.85rem;color:#444;max-width:40rem}
svg text{font:11px system-ui,sans-serif;fill:#222}
.gallery figure{margin:0 0 1.5rem}.gallery img{max-width:100%;border:1px solid #ccc}
td img{height:64px;border:1px solid #ccc}
code{font-size:.85rem;word-break:break-all}.last{font-weight:600;margin-top:2rem}
";

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A relative link to a file the run wrote: only its own gallery paths, never a URL.
pub fn local_src(path: &str) -> Option<String> {
    let safe = !path.contains("://") && !path.starts_with('/') && !path.contains("..");
    safe.then(|| esc(path))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The page's policy: no script, no network, the stylesheet by its hash, images from beside
/// the page.
pub fn content_security_policy() -> String {
    content_security_policy_for(STYLE)
}

/// The same policy for a page whose one stylesheet is `style`.
pub fn content_security_policy_for(style: &str) -> String {
    format!(
        "default-src 'none'; img-src 'self'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'",
        base64(&Sha256::digest(style.as_bytes()))
    )
}

impl Exporter for ReportHtml {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(super::document::html::render(&super::document::build(r)).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn escaping_leaves_no_markup() {
        let e = esc("<img src=x onerror=alert(1)>\"'&\r\n</script>");
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        assert!(e.contains("&lt;img"));
        assert_eq!(local_src("gallery/a.png").as_deref(), Some("gallery/a.png"));
        assert_eq!(local_src("https://x/a.png"), None);
        assert_eq!(local_src("../a.png"), None);
    }
}
