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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn markdown_escape() {
        assert_eq!(md("a|b <script>*x*\n"), "a\\|b &lt;script&gt;\\*x\\* ");
        assert_eq!(md("x\r<h2>\u{7}"), "x &lt;h2&gt; ");
        assert_eq!(md("[link](http://x)"), "\\[link\\]\\(http://x\\)");
    }
}
