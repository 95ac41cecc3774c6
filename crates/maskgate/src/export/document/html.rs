//! The document as one self-contained HTML page: syntax and escaping only. Every piece of
//! text goes through [`esc`]; links and pictures must be files beside the page
//! ([`local_src`]), else only their text is kept. Charts are inline SVG from
//! [`crate::export::chart`].

use super::{Align, Block, Document, Inline, Table, Tone};
use crate::export::chart;
use crate::export::html::{content_security_policy, esc, local_src, STYLE};

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
            esc(word)
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
    }
}

/// The words alone, for an attribute or the page title.
fn text_only(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Plain(t) | Inline::Text(t) | Inline::Code(t) | Inline::Badge(_, t) => esc(t),
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
        if let Some(key) = &row.key {
            out += &format!(" data-criterion=\"{}\"", esc(key));
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
                        chart::svg(c, &esc),
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
