//! The document as one self-contained HTML page: syntax and escaping only. Every piece of
//! text goes through [`crate::fmt::html`]; links and pictures must be files beside the page
//! (`local_src`), else only their text is kept. Charts are inline SVG from
//! [`crate::export::chart`].

use super::{badge_word, Align, Block, Document, Inline, Table, Tone};
use crate::export::chart;
use crate::fmt::html as esc;
use sha2::{Digest, Sha256};

/// The page's one stylesheet (the policy allows it by hash).
const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{margin:0;font-size:1.35rem}h3{margin:0;font-size:1.1rem}
details.section>summary{cursor:pointer;padding:.2rem 0}details.section>summary>h2,details.section>summary>h3{display:inline}
details.s2{margin-top:1.4rem;border-bottom:1px solid #ccc;padding-bottom:.4rem}details.s3{margin:1rem 0 0 .2rem}
nav#contents{background:#f6f6f6;border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;margin:1rem 0}nav#contents ul{columns:2;margin:.3rem 0;padding-left:1.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;display:block;max-width:100%;overflow-x:auto}th,td{border:1px solid #d4d4d4;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.verdict{padding:1rem 1.2rem;border-radius:.4rem;margin:1rem 0;font-size:1.05rem}
.verdict.good{background:#e3f5e5;border:2px solid #2e8b3d}.verdict.bad{background:#fde4e4;border:2px solid #c0392b}.verdict.open{background:#fff4d6;border:2px solid #c98b00}
.badge{display:inline-block;padding:0 .45rem;border-radius:.3rem;font-weight:600;font-size:.85rem}
.badge.good{background:#2e8b3d;color:#fff}.badge.bad{background:#c0392b;color:#fff}.badge.open{background:#c98b00;color:#fff}
tr.bad td{background:#fde4e4}tr.open td{background:#fff4d6}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.charts figure{margin:0;flex:1 1 24rem;min-width:0;max-width:36rem}.charts svg{width:100%;height:auto}
figcaption{font-size:.85rem;color:#444;max-width:40rem}
svg text{font:11px system-ui,sans-serif;fill:#222}
.gallery figure{margin:0 0 1.5rem}.gallery img{max-width:100%;border:1px solid #ccc}
td img{height:64px;border:1px solid #ccc}
code{font-size:.85rem;overflow-wrap:break-word}.last{font-weight:600;margin-top:2rem}
";

/// A relative link to a file the run wrote: only its own gallery paths, never a URL.
fn local_src(path: &str) -> Option<String> {
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
    format!(
        "default-src 'none'; img-src 'self'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'",
        base64(&Sha256::digest(STYLE.as_bytes()))
    )
}

fn tone_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => "good",
        Tone::Bad => "bad",
        Tone::Open => "open",
    }
}

fn inlines(parts: &[Inline]) -> String {
    parts.iter().map(inline).collect()
}

fn inline(part: &Inline) -> String {
    match part {
        Inline::Plain(t) | Inline::Text(t) => esc(t),
        Inline::Code(t) => format!("<code>{}</code>", esc(t)),
        Inline::Strong(parts) => format!("<strong>{}</strong>", inlines(parts)),
        Inline::Badge(tone, word) => format!(
            "<span class=\"badge {}\">{}</span>",
            tone_class(*tone),
            esc(&badge_word(*tone, word))
        ),
        Inline::Link { text, href } => match local_src(href) {
            Some(href) => format!("<a href=\"{href}\">{}</a>", inlines(text)),
            None => inlines(text),
        },
        Inline::Image { alt, src } => local_src(src).map_or_else(String::new, |src| {
            format!("<img src=\"{src}\" alt=\"{}\">", text_only(alt))
        }),
        Inline::Anchor { id, text } => {
            format!("<span id=\"{}\">{}</span>", esc(id), inlines(text))
        }
        Inline::Shortened { shown, whole } => {
            format!("<span title=\"{}\">{}</span>", esc(whole), esc(shown))
        }
    }
}

/// The words alone, for an attribute or the page title.
fn text_only(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Plain(t) | Inline::Text(t) | Inline::Code(t) => esc(t),
            Inline::Shortened { whole, .. } => esc(whole),
            Inline::Badge(tone, t) => esc(&badge_word(*tone, t)),
            Inline::Strong(parts)
            | Inline::Link { text: parts, .. }
            | Inline::Image { alt: parts, .. }
            | Inline::Anchor { text: parts, .. } => text_only(parts),
        })
        .collect()
}

fn id_attr(id: &Option<String>) -> String {
    id.as_ref()
        .map_or_else(String::new, |id| format!(" id=\"{}\"", esc(id)))
}

fn table(t: &Table) -> String {
    let mut out = String::from("<table><tr>");
    for c in &t.columns {
        out += &format!("<th>{}</th>", inlines(&c.header));
    }
    out += "</tr>\n";
    for row in &t.rows {
        out += "<tr";
        if let Some(tone) = row.tone {
            out += &format!(" class=\"{}\"", tone_class(tone));
        }
        if let Some(id) = &row.criterion {
            out += &format!(" data-criterion=\"{}\"", esc(id));
        }
        out += ">";
        for (i, c) in t.columns.iter().enumerate() {
            let cell = row.cells.get(i).map_or_else(String::new, |c| inlines(c));
            match c.align {
                Align::Right => out += &format!("<td class=\"n\">{cell}</td>"),
                Align::Left => out += &format!("<td>{cell}</td>"),
            }
        }
        out += "</tr>\n";
    }
    out + "</table>\n"
}

fn block(b: &Block) -> String {
    match b {
        Block::Heading { level, id, text } => {
            format!("<h{level}{}>{}</h{level}>\n", id_attr(id), inlines(text))
        }
        Block::Paragraph { id, text } => format!("<p{}>{}</p>\n", id_attr(id), inlines(text)),
        Block::Callout { tone, label, text } => format!(
            "<div class=\"verdict {}\"><strong>{}</strong> {}</div>\n",
            tone_class(*tone),
            esc(label),
            inlines(text)
        ),
        Block::List(items) => {
            let items: String = items
                .iter()
                .map(|i| format!("<li>{}</li>\n", inlines(i)))
                .collect();
            format!("<ul>\n{items}</ul>\n")
        }
        Block::Table(t) => table(t),
        Block::Pictures(pictures) => {
            let figures: String = pictures
                .iter()
                .map(|p| {
                    format!(
                        "<figure>{}<figcaption>{}</figcaption></figure>\n",
                        inline(&p.image),
                        inlines(&p.caption)
                    )
                })
                .collect();
            format!("<div class=\"gallery\">\n{figures}</div>\n")
        }
        Block::Figures(figures) => {
            let figures: String = figures
                .iter()
                .map(|(c, caption)| {
                    format!(
                        "<figure>{}<figcaption>{}</figcaption></figure>\n",
                        chart::svg(c),
                        inlines(caption)
                    )
                })
                .collect();
            format!("<div class=\"charts\">\n{figures}</div>\n")
        }
        Block::Details { summary, blocks } => format!(
            "<details><summary>{}</summary>\n{}</details>\n",
            inlines(summary),
            blocks.iter().map(block).collect::<String>()
        ),
        Block::Section {
            level,
            id,
            title,
            folded,
            blocks,
        } => format!(
            "<details class=\"section s{level}\" id=\"{}\"{}><summary><h{level}>{}</h{level}></summary>\n{}</details>\n",
            esc(id),
            if *folded { "" } else { " open" },
            inlines(title),
            blocks.iter().map(block).collect::<String>()
        ),
        Block::Contents(entries) => {
            let items: String = entries
                .iter()
                .map(|(id, title)| {
                    format!(
                        "<li><a href=\"#{}\">{}</a></li>",
                        esc(id),
                        text_only(title)
                    )
                })
                .collect();
            format!("<nav id=\"contents\"><strong>Contents</strong><ul>{items}</ul></nav>\n")
        }
        Block::LastLine(text) => {
            format!("<p class=\"last\" id=\"last-line\">{}</p>\n", inlines(text))
        }
    }
}

/// The document as a page: the policy and stylesheet in its head, the blocks in its body.
pub fn render(doc: &Document) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        content_security_policy(),
        text_only(&doc.title)
    );
    for b in &doc.blocks {
        out += &block(b);
    }
    out + "</body></html>\n"
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
    fn only_files_beside_the_page_are_linked() {
        assert_eq!(local_src("gallery/a.png").as_deref(), Some("gallery/a.png"));
        assert_eq!(local_src("https://x/a.png"), None);
        assert_eq!(local_src("../a.png"), None);
    }
}
