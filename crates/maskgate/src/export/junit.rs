//! JUnit XML for CI systems: one test case per criterion (a failing criterion is a `<failure>`
//! carrying its reason, an inconclusive one `<skipped>`), so a gate shows up in the CI's test
//! view. Written to the file `--junit` names, not into the report folder.

use crate::decide::Status;
use crate::report::Report;
use std::io::{Read, Write};
use std::path::Path;

/// XML needs the same five entities as HTML, and has no place for control characters either.
use crate::fmt::html as xml;

/// Checks before any work that `path` may receive the JUnit report: absent, empty, or a regular
/// file holding XML (a JUnit report of an earlier run). An input or a report of another kind
/// given there by mistake (`--junit gold.ndjson`) is never overwritten.
pub fn check_target(path: &Path) -> crate::Result<()> {
    crate::persist::check_replaceable(path)?;
    let head = match crate::limits::open_regular(path) {
        Ok((file, _)) => {
            let mut head = Vec::new();
            let _ = file.take(64).read_to_end(&mut head);
            head
        }
        Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(());
        }
        // A file this process cannot read may still be replaced (a rename needs only the
        // folder): what it holds is unknown, so it is not.
        Err(e) => return Err(e.into_error(path, "--junit")),
    };
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.is_empty() || text.starts_with('<') {
        return Ok(());
    }
    Err(crate::Error::file(
        path,
        "exists and is not a JUnit XML report; maskgate replaces only a JUnit file it wrote: choose another --junit path",
    ))
}

pub fn write(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let criteria = r.criteria.as_deref().unwrap_or_default();
    let count = |s: Status| criteria.iter().filter(|c| c.status == s).count();
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"maskgate\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        criteria.len(),
        count(Status::Fail),
        count(Status::Inconclusive)
    )?;
    writeln!(
        out,
        "  <testsuite name=\"maskgate gate {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\">",
        xml(&r.run.run_id),
        criteria.len(),
        count(Status::Fail),
        count(Status::Inconclusive),
        xml(&r.run.generated_at)
    )?;
    if let Some(summary) = &r.verdict_summary {
        writeln!(
            out,
            "    <properties><property name=\"recommendation\" value=\"{}\"/><property name=\"summary\" value=\"{}\"/></properties>",
            r.recommendation.map_or("", |v| v.as_str()),
            xml(summary)
        )?;
    }
    for c in criteria {
        write!(
            out,
            "    <testcase classname=\"maskgate.criteria\" name=\"{}\">",
            xml(&c.id)
        )?;
        match c.status {
            Status::Pass => {}
            Status::Fail => write!(
                out,
                "<failure message=\"{}\" type=\"criterion\">{}</failure>",
                xml(&c.reason),
                xml(&format!("{}: {}", c.description, c.reason))
            )?,
            Status::Inconclusive => write!(out, "<skipped message=\"{}\"/>", xml(&c.reason))?,
        }
        // Every check with its interval, one line each, for the CI's test view.
        let lines: Vec<String> = c.checks.iter().map(check_line).collect();
        if !lines.is_empty() {
            write!(out, "<system-out>{}</system-out>", xml(&lines.join("\n")))?;
        }
        writeln!(out, "</testcase>")?;
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}

/// `scope: status, Δ …, 95% CI […]: reason` for one check.
fn check_line(k: &crate::decide::Check) -> String {
    use crate::fmt::{delta, short};
    let mut line = format!("{}: {}", k.scope(), k.status.as_str());
    if k.delta.is_some() {
        line += &format!(", Δ {}", delta(k.delta));
    }
    if let Some([lo, hi]) = k.ci95 {
        line += &format!(", 95% CI [{}, {}]", short(Some(lo)), short(Some(hi)));
    }
    line + ": " + &k.reason
}

/// The Markdown a CI job summary shows (GitHub's `GITHUB_STEP_SUMMARY`): the verdict in one
/// sentence, each criterion's status, and the report's last line.
pub fn step_summary(r: &Report) -> String {
    use crate::fmt::md;
    let mut s = String::from("## maskgate\n\n");
    match (&r.verdict_summary, r.verdict()) {
        (Some(summary), Some(v)) => {
            s += &format!(
                "{}\n\n| criterion | status | reason |\n|---|---|---|\n",
                md(summary)
            );
            for c in &v.criteria {
                let word = c.status.as_str();
                let status = if c.status == Status::Fail {
                    format!("**{word}**")
                } else {
                    word.to_string()
                };
                s += &format!("| {} | {status} | {} |\n", md(&c.id), md(&c.reason));
            }
            s += &format!("\n{}\n", v.last_line());
        }
        _ => s += "No criteria were given: nothing was decided.\n",
    }
    if !r.suspects.is_empty() {
        // A reviewer's queue, not the verdict: the first few ids, the report has every one.
        const SHOWN: usize = 10;
        let ids: Vec<String> = (r.suspects.iter().take(SHOWN))
            .map(|x| md(&format!("{}/{}", x.corpus, x.id)))
            .collect();
        s +=
            &format!(
            "\n{} suspect label{} (every arm agrees, all disagree with the ground truth{}): {}{}\n",
            r.suspects.len(),
            if r.suspects.len() == 1 { "" } else { "s" },
            if r.suspects_excluded {
                "; left out of the verdict"
            } else {
                ""
            },
            ids.join(", "),
            if r.suspects.len() > SHOWN { ", …" } else { "" }
        );
    }
    s
}
