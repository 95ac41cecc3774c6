//! What is generated from [`SETTINGS`]: the list of variables a plan reads, and (in the
//! tests, which check and rewrite it) the docs' settings table.

use super::settings::SETTINGS;

/// Every environment variable a plan reads: each setting's, then the shard index's (see
/// [`crate::shard::INDEX_VARS`]).
pub(super) fn env_vars() -> Vec<&'static str> {
    SETTINGS
        .iter()
        .flat_map(|s| [s.env, s.env_after_config])
        .flatten()
        .chain(crate::shard::INDEX_VARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo_file;
    use std::path::Path;

    /// The docs' settings table (`docs/src/configuration.md`, between the `settings` markers).
    fn docs_table() -> String {
        let code = |x: Option<String>| x.map_or_else(|| "—".to_string(), |x| format!("`{x}`"));
        // Prose in a table cell: a `|` would end the cell, and a `<corpus>` is read as an HTML tag.
        let cell = |x: &str| x.replace('|', "\\|").replace('<', "&lt;");
        let mut t = String::from(
            "| setting | `[run]` key | flag | variable | Python | type | default | limits | commands | what it does |\n|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for s in SETTINGS {
            let env = match (s.env, s.env_after_config) {
                (Some(a), Some(b)) => Some(format!("{a}` / `{b}")),
                (a, _) => a.map(str::to_string),
            };
            let config = match (s.config, s.criteria) {
                (Some(c), Some(k)) => format!("`{c}` (criteria file: `{k}`)"),
                (c, _) => code(c.map(str::to_string)),
            };
            t.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                s.name,
                config,
                code(s.flag.map(|f| format!("--{f}"))),
                code(env),
                code(s.python.map(str::to_string)),
                s.kind,
                cell(s.default),
                if s.limits.is_empty() {
                    "—".into()
                } else {
                    cell(s.limits)
                },
                s.commands.join(", "),
                cell(s.help),
            ));
        }
        t
    }

    const BEGIN: &str = "<!-- settings:begin -->";
    const END: &str = "<!-- settings:end -->";

    /// Variables are named in the table alone: the plan's other code reads each through its
    /// `Setting`, so a renamed variable cannot leave a stale name behind.
    #[test]
    fn only_the_settings_table_names_a_variable() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/plan");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, _) in code
                .match_indices("\"MASKGATE_")
                .chain(code.match_indices("\"ORT_"))
            {
                let name = code[i + 1..].split('"').next().unwrap();
                assert!(
                    path.ends_with("settings.rs"),
                    "{} names {name}: read it through its Setting",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen > 0, "the probe finds the table's variables");
    }

    /// The docs' table is generated from SETTINGS; `MASKGATE_BLESS=1` rewrites it.
    #[test]
    fn the_docs_table_is_generated_from_the_settings() {
        let path = repo_file("docs/src/configuration.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
            panic!(
                "{}: the {BEGIN} … {END} markers are missing",
                path.display()
            );
        };
        let committed = &text[b + BEGIN.len()..e];
        let wanted = format!("\n{}", docs_table());
        if committed != wanted {
            if std::env::var_os("MASKGATE_BLESS").is_some() {
                let new = format!("{}{BEGIN}{wanted}{}", &text[..b], &text[e..]);
                std::fs::write(&path, new).unwrap();
                return;
            }
            panic!(
                "{} differs from SETTINGS; regenerate it with\n  MASKGATE_BLESS=1 cargo test -p maskgate -p maskgate-cli --lib the_docs_table",
                path.display()
            );
        }
    }
}
