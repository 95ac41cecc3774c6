//! One formatting routine for numbers and one escaping routine for user text, shared by every
//! exporter so CSV, JSON and Markdown agree.

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

/// Human-readable: 3 decimals, trailing zeros trimmed, `-` when undefined.
pub fn short(v: Option<f64>) -> String {
    let Some(v) = v else { return "-".into() };
    let s = format!("{v:.3}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Three significant digits, for p-values that may be tiny.
pub fn sig(v: f64) -> String {
    if v == 0.0 || v >= 0.001 {
        short(Some(v))
    } else {
        format!("{v:.2e}")
    }
}

/// Signed form of [`short`] for deltas.
pub fn delta(v: Option<f64>) -> String {
    match v {
        Some(x) if short(Some(x)) != "0" && x > 0.0 => format!("+{}", short(Some(x))),
        _ => short(v),
    }
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
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '(' | ')' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// CSV field quoting (RFC 4180) for text fields.
pub fn csv_text(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_serde_json() {
        for v in [0.0, 1.0, 0.1, 1.0 / 3.0, 1e-7, 123456.789, -0.25] {
            assert_eq!(num(v), serde_json::to_string(&v).unwrap());
        }
        assert_eq!(short(Some(0.12345)), "0.123");
        assert_eq!(short(Some(1.0)), "1");
        assert_eq!(short(Some(-0.0001)), "0");
        assert_eq!(delta(Some(0.01)), "+0.01");
        assert_eq!(delta(Some(-0.01)), "-0.01");
    }

    #[test]
    fn markdown_escape() {
        assert_eq!(md("a|b <script>*x*\n"), "a\\|b &lt;script&gt;\\*x\\* ");
        assert_eq!(md("[link](http://x)"), "\\[link\\]\\(http://x\\)");
        assert_eq!(csv_text("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
