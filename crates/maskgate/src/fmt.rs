//! One formatting routine for numbers and one escaping routine for user text per markup
//! (Markdown, HTML/XML), shared by every exporter so CSV, JSON, Markdown, HTML and JUnit agree.

/// Shortest round-trip form, identical to what `serde_json` writes for the same `f64`.
pub fn num(v: f64) -> String {
    if v.is_finite() {
        ryu::Buffer::new().format_finite(v).to_string()
    } else {
        String::new()
    }
}

/// CSV cell for an optional number: empty when undefined.
pub fn opt_num(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// Human-readable with a fixed number of decimals (tables line up), `-` when undefined; a
/// value that rounds to zero is written without a sign.
pub fn fixed(v: Option<f64>, decimals: usize) -> String {
    let Some(v) = v else { return "-".into() };
    let s = format!("{v:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// [`fixed`] with 3 decimals: every ratio in the reports.
pub fn short(v: Option<f64>) -> String {
    fixed(v, 3)
}

/// Three significant digits, for p-values that may be tiny.
pub fn sig(v: f64) -> String {
    if v == 0.0 || v >= 0.001 {
        short(Some(v))
    } else {
        format!("{v:.2e}")
    }
}

/// Signed form of [`short`] for deltas: `+` before a positive one that does not round to 0.
/// A change too small for 3 decimals keeps one significant digit (`+0.0002`), so a listed
/// improvement never reads as Δ 0.
pub fn delta(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && x.is_finite() && x.abs() < 0.0005 => {
            let decimals = ((-x.abs().log10()).ceil() as usize).clamp(4, 15);
            format!("{x:+.decimals$}")
        }
        Some(x) if x > 0.0 => format!("+{}", short(v)),
        _ => short(v),
    }
}

/// The first 16 characters of a hash: enough to tell files (and plans) apart where a person
/// reads them. Counted in characters, so a malformed hash from an archived report cannot cut
/// a character in two.
pub fn hash_prefix(sha: &str) -> &str {
    sha.char_indices().nth(16).map_or(sha, |(i, _)| &sha[..i])
}

/// Characters of a path or name echoed in a message: enough for any real path, while a
/// 100 KB name a user or a file supplied cannot fill a log line.
pub const SHOWN_CHARS: usize = 256;

/// `text` for a message: itself when at most [`SHOWN_CHARS`] characters long, else its start
/// and end (where a path keeps its file name) around an ellipsis that says how much was cut.
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    let n = text.chars().count();
    if n <= SHOWN_CHARS {
        return text.into();
    }
    let half = SHOWN_CHARS / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(n - half).collect();
    format!("{head}…({} characters)…{tail}", n - 2 * half).into()
}

/// A path for a message, clipped as [`clip`] does.
pub fn clip_path(path: &std::path::Path) -> String {
    clip(&path.to_string_lossy()).into_owned()
}

/// A whole message with every overlong word (a path, a name) clipped as [`clip`] does: what a
/// command line prints last, so no echoed value can make a line of 100 KB.
pub fn clip_words(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= SHOWN_CHARS {
        return message.into();
    }
    let mut out = String::with_capacity(message.len().min(4 * SHOWN_CHARS));
    let mut rest = message;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push_str(&clip(&rest[..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.into()
}

/// Escapes user text (ids, file names, notes, class names) for a Markdown table cell:
/// characters with Markdown or HTML meaning are backslash-escaped or entity-encoded, and
/// line breaks become spaces.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '(' | ')' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML (and XML) element content and quoted attribute values: the report
/// page, its SVG charts, the trend page and the JUnit file. Control characters other than a
/// line break become spaces, as XML 1.0 cannot hold them.
/// A JSON value as `(key, text)` pairs, nested objects' keys dotted (`source.backend`), a list
/// as its items joined by ", ", strings without quotes, nulls left out: how a report shows
/// metadata and an arm's description, never as a JSON blob.
pub fn flattened(v: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = match prefix {
                        "" => k.clone(),
                        _ => format!("{prefix}.{k}"),
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::Array(items) => out.push((
                prefix.to_string(),
                items.iter().map(text).collect::<Vec<_>>().join(", "),
            )),
            serde_json::Value::Null => {}
            other => out.push((prefix.to_string(), text(other))),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

pub fn html(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_and_words_are_clipped_with_their_ends_kept() {
        let long = format!("/a/{}/photo.png", "x".repeat(100_000));
        let c = clip(&long);
        assert!(c.chars().count() < SHOWN_CHARS + 40, "{}", c.len());
        assert!(c.starts_with("/a/xx") && c.ends_with("/photo.png") && c.contains('…'));
        assert_eq!(clip("short"), "short");
        let m = format!("cannot open {long}: File name too long");
        let w = clip_words(&m);
        assert!(
            w.len() < 1000 && w.starts_with("cannot open /a/") && w.ends_with("File name too long")
        );
    }

    #[test]
    fn a_hash_prefix_is_16_characters_or_the_whole() {
        assert_eq!(
            hash_prefix(&"0123456789abcdef".repeat(4)),
            "0123456789abcdef"
        );
        assert_eq!(hash_prefix("abc"), "abc");
        assert_eq!(hash_prefix(&"é".repeat(20)), "é".repeat(16));
    }

    #[test]
    fn a_nonzero_delta_never_prints_as_zero() {
        assert_eq!(delta(Some(0.0002)), "+0.0002");
        assert_eq!(delta(Some(-0.00004)), "-0.00004");
        assert_eq!(delta(Some(0.0)), "0.000");
        assert_eq!(delta(Some(0.1234)), "+0.123");
        assert_eq!(delta(Some(-0.1234)), "-0.123");
        assert_eq!(delta(None), "-");
    }

    #[test]
    fn numbers_match_serde_json() {
        for v in [0.0, 1.0, 0.1, 1.0 / 3.0, 1e-7, 123456.789, -0.25] {
            assert_eq!(num(v), serde_json::to_string(&v).unwrap());
        }
        assert_eq!(short(Some(0.12345)), "0.123");
        assert_eq!(short(Some(1.0)), "1.000");
        assert_eq!(short(Some(0.89)), "0.890");
        assert_eq!(short(Some(-0.0001)), "0.000");
        assert_eq!(short(None), "-");
        assert_eq!(fixed(Some(12.0), 0), "12");
        assert_eq!(delta(Some(0.01)), "+0.010");
        assert_eq!(delta(Some(0.0001)), "+0.0001");
        assert_eq!(delta(Some(-0.01)), "-0.010");
    }

    #[test]
    fn html_escaping_leaves_no_markup() {
        let e = html("<img src=x onerror=alert(1)>\"'&\r\n</script>");
        assert_eq!(
            e,
            "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp; \n&lt;/script&gt;"
        );
    }

    #[test]
    fn markdown_escape() {
        assert_eq!(md("a|b <script>*x*\n"), "a\\|b &lt;script&gt;\\*x\\* ");
        assert_eq!(md("x\r<h2>\u{7}"), "x &lt;h2&gt; ");
        assert_eq!(md("[link](http://x)"), "\\[link\\]\\(http://x\\)");
    }
}
