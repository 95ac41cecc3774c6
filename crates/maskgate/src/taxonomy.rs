//! Failure classes: a taxonomy of match rules over a sample's reporter `notes` (case-insensitive
//! regex), `source` and `meta` fields. Rule: the **first** class in file order whose every given
//! condition matches wins; a sample no class matches is `unclassified`. (Single-label on purpose:
//! per-class aggregates then partition the corpus and their sample counts add up.)

use crate::model::Sample;
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use std::collections::BTreeMap;

pub const UNCLASSIFIED: &str = "unclassified";

#[derive(Debug, Clone)]
pub struct FailureClass {
    pub name: String,
    pub notes: Option<Regex>,
    /// The sample's `source` must equal one of these.
    pub source: Option<Vec<String>>,
    /// Each `meta` key (dotted for nested objects) must equal one of its values.
    pub meta: BTreeMap<String, Vec<String>>,
}

impl FailureClass {
    pub fn new(
        name: &str,
        notes: Option<&str>,
        source: Option<Vec<String>>,
        meta: BTreeMap<String, Vec<String>>,
    ) -> Result<FailureClass, String> {
        let notes = notes
            .map(|p| {
                RegexBuilder::new(p)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("failure class {name:?}: bad notes regex: {e}"))
            })
            .transpose()?;
        if notes.is_none() && source.is_none() && meta.is_empty() {
            return Err(format!(
                "failure class {name:?} has no rule (notes, source or meta)"
            ));
        }
        if name == UNCLASSIFIED {
            return Err(format!(
                "{UNCLASSIFIED:?} is reserved for samples no class matches"
            ));
        }
        Ok(FailureClass {
            name: name.to_string(),
            notes,
            source,
            meta,
        })
    }

    pub fn matches(&self, s: &Sample) -> bool {
        if let Some(re) = &self.notes {
            if !s.notes.as_deref().is_some_and(|n| re.is_match(n)) {
                return false;
            }
        }
        if let Some(allowed) = &self.source {
            if !s.source.as_ref().is_some_and(|src| allowed.contains(src)) {
                return false;
            }
        }
        self.meta.iter().all(|(key, allowed)| {
            lookup(&s.meta, key).is_some_and(|v| {
                let text = match v {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                };
                allowed.contains(&text)
            })
        })
    }
}

/// A failure class and its rule as a reviewer reads it beside a sample.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassRule {
    pub name: String,
    pub rule: String,
}

impl FailureClass {
    /// The rule in words: "notes match `handle|spout|thin`; meta type = human".
    pub fn rule(&self) -> ClassRule {
        let mut parts = Vec::new();
        if let Some(re) = &self.notes {
            parts.push(format!("notes match `{}`", re.as_str()));
        }
        if let Some(sources) = &self.source {
            parts.push(format!("source is {}", sources.join(" or ")));
        }
        for (key, allowed) in &self.meta {
            parts.push(format!("meta {key} = {}", allowed.join(" or ")));
        }
        ClassRule {
            name: self.name.clone(),
            rule: parts.join("; "),
        }
    }
}

fn lookup<'a>(meta: &'a serde_json::Map<String, Value>, dotted: &str) -> Option<&'a Value> {
    if let Some(v) = meta.get(dotted) {
        return Some(v);
    }
    let mut parts = dotted.split('.');
    let mut cur = meta.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// The failure class of a sample under `taxonomy` (first match wins).
pub fn classify(taxonomy: &[FailureClass], s: &Sample) -> String {
    taxonomy
        .iter()
        .find(|c| c.matches(s))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| UNCLASSIFIED.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(notes: Option<&str>, source: Option<&str>, meta: Value) -> Sample {
        Sample {
            instances: None,
            id: "x".into(),
            hash: String::new(),
            source: source.map(Into::into),
            image: None,
            size: (1, 1),
            gt: Default::default(),
            void: None,
            fit_predictions: false,
            predicted_modules: None,
            notes: notes.map(Into::into),
            meta: meta.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn first_match_wins_and_rules_combine() {
        let meta = |k: &str, v: &[&str]| {
            BTreeMap::from([(k.to_string(), v.iter().map(|s| s.to_string()).collect())])
        };
        let tax = vec![
            FailureClass::new("glare", Some("glare|reflect"), None, BTreeMap::new()).unwrap(),
            FailureClass::new(
                "human_hair",
                Some("hair"),
                Some(vec!["flagged".into()]),
                meta("source.type", &["human"]),
            )
            .unwrap(),
            FailureClass::new("any_hair", Some("hair"), None, BTreeMap::new()).unwrap(),
        ];
        let human = serde_json::json!({"source": {"type": "human"}});
        assert_eq!(
            classify(
                &tax,
                &sample(Some("Strong GLARE on hair"), None, Value::Null)
            ),
            "glare"
        );
        assert_eq!(
            classify(
                &tax,
                &sample(Some("hair leak"), Some("flagged"), human.clone())
            ),
            "human_hair"
        );
        assert_eq!(
            classify(&tax, &sample(Some("hair leak"), Some("test"), human)),
            "any_hair"
        );
        assert_eq!(
            classify(&tax, &sample(None, Some("flagged"), Value::Null)),
            "unclassified"
        );
        assert!(FailureClass::new("x", None, None, BTreeMap::new()).is_err());
        assert!(FailureClass::new("x", Some("("), None, BTreeMap::new()).is_err());
    }
}
