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
    /// A status word: Markdown stresses a bad one, HTML draws a coloured badge.
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

/// One table row; `key` names what the row is about (HTML: `data-criterion`), `tone` marks it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub cells: Vec<Vec<Inline>>,
    pub key: Option<String>,
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
    /// More detail behind a summary line: HTML only.
    Details {
        summary: Vec<Inline>,
        blocks: Vec<Block>,
    },
    /// The report's last line (a CI log's one-line verdict).
    LastLine(Vec<Inline>),
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
