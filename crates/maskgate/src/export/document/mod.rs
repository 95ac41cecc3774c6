//! The report as one document: [`build`] writes every section, sentence, table and figure of a
//! [`Report`](crate::report::Report) once, and [`markdown::render`] and [`html::render`] turn it
//! into `report.md` and `report.html`. The renderers own only syntax and escaping; a sentence
//! of the report lives in one place, the builder.
//!
//! What plain text cannot show (figures, pictures inside tables, collapsible details, element
//! ids and tones) is marked in the model, and the Markdown renderer leaves it out.

mod build;
pub mod html;
pub mod markdown;

pub use build::build;

use crate::export::chart::Chart;

/// A whole report: a title (the HTML page's) and its blocks in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: Vec<Inline>,
    pub blocks: Vec<Block>,
}

/// How a block or badge reads at a glance; the HTML renderer colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A piece of running text. [`Inline::Plain`] is maskgate's own wording (no markup by
/// construction); [`Inline::Text`] is user text (ids, names, paths, reasons) that each
/// renderer escapes for its format.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Plain(String),
    Text(String),
    /// Code or a name shown verbatim (a path, a hash, a setting).
    Code(String),
    Strong(Vec<Inline>),
    /// A status word: HTML draws a coloured badge, Markdown stresses a bad one; both show a
    /// bad one in capitals (`badge_word`).
    Badge(Tone, String),
    /// A link to a file the run wrote beside the report.
    Link {
        text: Vec<Inline>,
        href: String,
    },
    /// A picture the run wrote beside the report.
    Image {
        alt: Vec<Inline>,
        src: String,
    },
    /// User text shortened for a table cell; the page shows the whole on hover.
    Shortened {
        shown: String,
        whole: String,
    },
    /// Text an HTML page can point at by `id` (the verdict a browser check reads).
    Anchor {
        id: String,
        text: Vec<Inline>,
    },
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: Vec<Inline>,
    pub align: Align,
    /// A column of pictures: text renderers leave it out.
    pub pictures: bool,
}

/// One table row; `criterion` names the criterion the row is about (HTML: `data-criterion`),
/// `tone` marks it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub cells: Vec<Vec<Inline>>,
    pub criterion: Option<String>,
    pub tone: Option<Tone>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// One picture of the gallery: the picture and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub caption: Vec<Inline>,
    pub image: Inline,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading {
        level: u8,
        id: Option<String>,
        text: Vec<Inline>,
    },
    Paragraph {
        id: Option<String>,
        text: Vec<Inline>,
    },
    /// The verdict box at the top: a stressed label, then the sentence.
    Callout {
        tone: Tone,
        label: String,
        text: Vec<Inline>,
    },
    List(Vec<Vec<Inline>>),
    Table(Table),
    /// Pictures with their captions (the gallery).
    Pictures(Vec<Picture>),
    /// Charts side by side, each with its caption: HTML only.
    Figures(Vec<(Chart, Vec<Inline>)>),
    /// More detail behind a summary line, collapsed (`<details>`) in both formats.
    Details {
        summary: Vec<Inline>,
        blocks: Vec<Block>,
    },
    /// A titled part of the report, its heading and what lies under it: the page folds it
    /// (`<details>`, closed when `folded`), Markdown writes the heading and the blocks.
    Section {
        level: u8,
        id: String,
        title: Vec<Inline>,
        folded: bool,
        blocks: Vec<Block>,
    },
    /// A link to each top-level section, by id and title: the page's contents (HTML only).
    Contents(Vec<(String, Vec<Inline>)>),
    /// The report's last line (a CI log's one-line verdict). Not a [`Block::Paragraph`] with
    /// an id: the HTML page styles it by its own class (`last`) as well.
    LastLine(Vec<Inline>),
}

/// A badge's word as both renderers show it: a bad one (`fail`) in capitals, as the reports
/// always have, so it stands out in a table of `pass`.
fn badge_word(tone: Tone, word: &str) -> String {
    match tone {
        Tone::Bad => word.to_uppercase(),
        Tone::Good | Tone::Open => word.to_string(),
    }
}

/// Shorthands the builder writes sentences with.
pub fn plain(t: impl Into<String>) -> Inline {
    Inline::Plain(t.into())
}

pub fn text(t: impl Into<String>) -> Inline {
    Inline::Text(t.into())
}

pub fn code(t: impl Into<String>) -> Inline {
    Inline::Code(t.into())
}

/// User text cut to at most `chars` characters (an ellipsis marks the cut), whole on hover.
pub fn shortened(t: &str, chars: usize) -> Inline {
    // The hover text is bounded too: a database's notes column can hold a whole log.
    let whole: String = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(1000)
        .collect();
    if whole.chars().count() <= chars {
        return Inline::Text(whole);
    }
    let mut shown: String = whole.chars().take(chars.saturating_sub(1)).collect();
    shown.truncate(shown.trim_end().len());
    shown.push('…');
    Inline::Shortened { shown, whole }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::chart::WhiskerRow;

    fn doc() -> Document {
        let hostile = "<b onmouseover=x>|*y*";
        Document {
            title: vec![plain("t "), text(hostile)],
            blocks: vec![
                Block::Paragraph {
                    id: None,
                    text: vec![plain("said once: "), text(hostile), plain(" "), code("a`b")],
                },
                Block::Table(Table {
                    columns: vec![
                        Column {
                            header: vec![plain("id")],
                            align: Align::Left,
                            pictures: false,
                        },
                        Column {
                            header: vec![plain("picture")],
                            align: Align::Left,
                            pictures: true,
                        },
                    ],
                    rows: vec![Row {
                        cells: vec![
                            vec![text(hostile)],
                            vec![Inline::Image {
                                alt: vec![text(hostile)],
                                src: "gallery/a.png".into(),
                            }],
                        ],
                        criterion: Some(hostile.into()),
                        tone: Some(Tone::Bad),
                    }],
                }),
                Block::Figures(vec![(
                    Chart::Whiskers {
                        rows: vec![WhiskerRow {
                            label: hostile.into(),
                            n: 1,
                            delta: Some(0.1),
                            ci95: None,
                        }],
                        colour: "#000",
                    },
                    vec![plain("caption")],
                )]),
                Block::Details {
                    summary: vec![plain("more")],
                    blocks: vec![Block::List(vec![vec![plain("hidden in text")]])],
                },
            ],
        }
    }

    #[test]
    fn one_sentence_renders_escaped_in_both_formats() {
        let md = markdown::render(&doc());
        assert!(
            md.starts_with("said once: &lt;b onmouseover=x&gt;\\|\\*y\\* a\\`b\n\n"),
            "{md}"
        );
        // Markdown has no pictures column, chart or details.
        assert!(
            md.contains("| id |\n|---|\n| &lt;b") && !md.contains("picture"),
            "{md}"
        );
        // Charts are HTML only; details are collapsed in both formats.
        assert!(!md.contains("caption"), "{md}");
        assert!(
            md.contains("<details><summary>more</summary>\n\n- hidden in text\n"),
            "{md}"
        );
        let html = html::render(&doc());
        assert!(html.contains("<p>said once: &lt;b onmouseover=x&gt;|*y* <code>a`b</code></p>"));
        assert!(html.contains("<img src=\"gallery/a.png\" alt=\"&lt;b onmouseover=x&gt;|*y*\">"));
        assert!(html.contains("data-criterion=\"&lt;b onmouseover=x&gt;|*y*\""));
        assert!(
            html.contains("<figcaption>caption</figcaption>") && html.contains("hidden in text")
        );
        assert!(!html.contains("<b "), "{html}");
    }
}
