//! The document as Markdown: syntax and escaping only. User text goes through
//! [`crate::fmt::md`]; figures, picture columns, details, ids and tones are left out.

use super::{badge_word, Align, Block, Document, Inline, Table, Tone};
use crate::fmt::md;

/// Inline code cannot hold a backtick (nor a table's pipe); such text is escaped instead.
fn code(s: &str) -> String {
    if s.chars().any(|c| c == '`' || c == '|' || c.is_control()) {
        md(s)
    } else {
        format!("`{s}`")
    }
}

fn inlines(parts: &[Inline]) -> String {
    parts.iter().map(inline).collect()
}

fn inline(part: &Inline) -> String {
    match part {
        Inline::Plain(t) => t.clone(),
        Inline::Text(t) | Inline::Shortened { shown: t, .. } => md(t),
        Inline::Code(t) => code(t),
        Inline::Strong(parts) => format!("**{}**", inlines(parts)),
        Inline::Badge(Tone::Bad, word) => format!("**{}**", badge_word(Tone::Bad, word)),
        Inline::Badge(tone, word) => badge_word(*tone, word),
        Inline::Link { text, href } => format!("[{}]({href})", inlines(text)),
        Inline::Image { alt, src } => format!("![{}]({src})", inlines(alt)),
        Inline::Anchor { text, .. } => inlines(text),
    }
}

fn table(t: &Table) -> String {
    let shown: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !t.columns[i].pictures)
        .collect();
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(
        shown
            .iter()
            .map(|&i| inlines(&t.columns[i].header))
            .collect(),
    );
    let aligns: Vec<&str> = shown
        .iter()
        .map(|&i| match t.columns[i].align {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    out += &format!("|{}|\n", aligns.join("|"));
    for row in &t.rows {
        out += &line(
            shown
                .iter()
                .map(|&i| row.cells.get(i).map_or_else(String::new, |c| inlines(c)))
                .collect(),
        );
    }
    out
}

/// One block, ending in a newline; `None` for what Markdown leaves out.
fn block(b: &Block) -> Option<String> {
    Some(match b {
        Block::Heading { level, text, .. } => {
            format!("{} {}\n", "#".repeat(usize::from(*level)), inlines(text))
        }
        Block::Paragraph { text, .. } | Block::LastLine(text) => format!("{}\n", inlines(text)),
        Block::Callout { label, text, .. } => format!("**{label}** {}\n", inlines(text)),
        Block::List(items) => items
            .iter()
            .map(|item| format!("- {}\n", inlines(item)))
            .collect(),
        Block::Table(t) => table(t),
        Block::Pictures(pictures) => pictures
            .iter()
            .map(|p| format!("- {}\n\n  {}\n", inlines(&p.caption), inline(&p.image)))
            .collect::<Vec<_>>()
            .join("\n"),
        // Collapsed as on the page: GitHub, GitLab and mdBook render the Markdown inside.
        Block::Details { summary, blocks } => format!(
            "<details><summary>{}</summary>\n\n{}\n</details>\n",
            inlines(summary),
            blocks
                .iter()
                .filter_map(block)
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Block::Section {
            level,
            title,
            blocks,
            ..
        } => std::iter::once(format!(
            "{} {}\n",
            "#".repeat(usize::from(*level)),
            inlines(title)
        ))
        .chain(blocks.iter().filter_map(block))
        .collect::<Vec<_>>()
        .join("\n"),
        Block::Figures(_) | Block::Contents(_) => return None,
    })
}

/// The document as Markdown: blocks separated by one blank line.
pub fn render(doc: &Document) -> String {
    doc.blocks
        .iter()
        .filter_map(block)
        .collect::<Vec<_>>()
        .join("\n")
}
