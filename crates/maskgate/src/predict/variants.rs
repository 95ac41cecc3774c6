//! Variants: named, ordered post-processing of another arm's predictions (`[[variant]]`), and
//! sweeps that expand a parameter grid into named variants (`[[sweep]]`). A variant is an arm
//! in every table; it works from the source arm's prediction of the same sample, so a sweep
//! never runs inference twice.

use super::postprocess::{apply, Op};
use crate::model::{FailReason, MaskData, Prediction};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub from: String,
    pub ops: Vec<Op>,
}

impl Variant {
    /// The variant's prediction from its source's. A failed source stays failed; a mask the
    /// source could not provide is an empty class, which is scored, never dropped.
    pub fn derive(&self, source: &Prediction) -> Prediction {
        if source.fail.is_some_and(FailReason::voids_prediction) {
            return source.clone();
        }
        let sizes: std::collections::BTreeSet<(u32, u32)> =
            source.masks.values().map(MaskData::size).collect();
        if sizes.len() > 1 {
            // The ops combine classes pixel by pixel: they need one canvas.
            return Prediction {
                fail: Some(FailReason::SizeMismatch),
                fail_detail: Some(format!(
                    "variant {}: the source's masks differ in size",
                    self.name
                )),
                ..Default::default()
            };
        }
        let mut masks = BTreeMap::new();
        for (class, m) in &source.masks {
            match m.rasterize(None) {
                Ok(mask) => {
                    masks.insert(class.clone(), mask);
                }
                Err(_) => {
                    return Prediction {
                        fail: Some(FailReason::PredMaskInvalid),
                        near: None,
                        ..source.clone()
                    }
                }
            }
        }
        match apply(&self.ops, &masks, None) {
            Ok(out) => Prediction {
                size: source
                    .size
                    .or_else(|| out.values().next().map(|m| (m.height(), m.width()))),
                masks: out
                    .into_iter()
                    .map(|(c, m)| (c, MaskData::Mask(m)))
                    .collect(),
                fail: source.fail,
                fail_detail: source.fail_detail.clone(),
                // What noise could flip in the source is not followed through the ops.
                near: None,
                // A variant post-processes the masks, not the instances.
                instances: None,
                classes_complete: source.classes_complete,
            },
            Err(e) => Prediction {
                fail: Some(FailReason::PostprocessFailed),
                fail_detail: Some(format!("variant {}: {e}", self.name)),
                ..Default::default()
            },
        }
    }

    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "kind": "variant", "from": self.from, "ops": format!("{:?}", self.ops)})
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    name: String,
    from: String,
    #[serde(default)]
    ops: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    /// Name template, e.g. `variant3_clip_{px}_{share}`.
    name: String,
    from: String,
    ops: Vec<Value>,
    /// Cartesian product of the listed values: keys in sorted order, the first outermost (the
    /// last key varies fastest, as nested loops in key order).
    grid: Option<BTreeMap<String, Vec<Value>>>,
    /// Or explicit parameter sets, in order.
    params: Option<Vec<BTreeMap<String, Value>>>,
}

fn parse_op(v: Value, ctx: &str) -> Result<Op, String> {
    v.try_into::<Op>()
        .map_err(|e| format!("{ctx}: bad op: {e}"))
}

pub fn from_raw(v: RawVariant) -> Result<Variant, String> {
    let ops = v
        .ops
        .into_iter()
        .map(|o| parse_op(o, &format!("variant {:?}", v.name)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Variant {
        name: v.name,
        from: v.from,
        ops,
    })
}

/// How a parameter value reads inside a variant name: `0.25` → `0_25`, `8` → `8`.
pub fn name_part(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Float(f) => f.to_string().replace('.', "_"),
        other => other.to_string().replace('.', "_"),
    }
}

fn substitute(v: &Value, params: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::String(s) => {
            for (k, val) in params {
                if *s == format!("{{{k}}}") {
                    return val.clone(); // a whole-string placeholder keeps the value's type
                }
            }
            let mut out = s.clone();
            for (k, val) in params {
                out = out.replace(&format!("{{{k}}}"), &name_part(val));
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, params)).collect()),
        Value::Table(t) => Value::Table(
            t.iter()
                .map(|(k, x)| (k.clone(), substitute(x, params)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Expands a sweep into variants, in grid order (or `params` order).
pub fn expand_sweep(s: RawSweep) -> Result<Vec<Variant>, String> {
    let sets: Vec<BTreeMap<String, Value>> = match (s.grid, s.params) {
        (Some(grid), None) => {
            let mut sets = vec![BTreeMap::new()];
            for (k, values) in grid {
                if values.is_empty() {
                    return Err(format!("sweep {:?}: grid key {k:?} has no values", s.name));
                }
                let mut next = Vec::with_capacity(sets.len() * values.len());
                for set in &sets {
                    for v in &values {
                        let mut n = set.clone();
                        n.insert(k.clone(), v.clone());
                        next.push(n);
                    }
                }
                sets = next;
            }
            sets
        }
        (None, Some(p)) if !p.is_empty() => p,
        _ => {
            return Err(format!(
                "sweep {:?}: give exactly one of `grid` or a non-empty `params`",
                s.name
            ))
        }
    };
    sets.iter()
        .map(|params| {
            let mut name = s.name.clone();
            for (k, v) in params {
                name = name.replace(&format!("{{{k}}}"), &name_part(v));
            }
            if name.contains('{') {
                return Err(format!(
                    "sweep {:?}: name keeps a placeholder after expansion: {name}",
                    s.name
                ));
            }
            let ops = s
                .ops
                .iter()
                .map(|o| parse_op(substitute(o, params), &format!("sweep variant {name:?}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Variant {
                name,
                from: s.from.clone(),
                ops,
            })
        })
        .collect()
}

/// Expands sweeps (after the plain variants, in file order) and checks names and sources:
/// `from` must be an arm or an earlier variant, and names must be new.
pub fn resolve(
    variant: Vec<RawVariant>,
    sweep: Vec<RawSweep>,
    arms: &[String],
) -> Result<Vec<Variant>, String> {
    let mut variants = Vec::new();
    for v in variant {
        variants.push(from_raw(v)?);
    }
    for s in sweep {
        variants.extend(expand_sweep(s)?);
    }
    let mut known: Vec<&str> = arms.iter().map(String::as_str).collect();
    for v in &variants {
        if known.contains(&v.name.as_str()) {
            return Err(format!(
                "variant {:?}: the name is already an arm or a variant",
                v.name
            ));
        }
        if !known.contains(&v.from.as_str()) {
            return Err(format!(
                "variant {:?}: `from = {:?}` is neither an arm nor an earlier variant",
                v.name, v.from
            ));
        }
        if v.ops.iter().any(|o| matches!(o, Op::Threshold { .. })) {
            return Err(format!(
                "variant {:?}: `threshold` needs the arm's probability map, which arms do not keep; set the model arm's `threshold` instead",
                v.name
            ));
        }
        known.push(&v.name);
    }
    Ok(variants)
}

/// Op classes must be corpus classes (or `*`), so a typo is not a silently empty class.
pub fn check_classes(variants: &[Variant], classes: &[String]) -> Result<(), String> {
    for v in variants {
        for op in &v.ops {
            for c in std::iter::once(op.class()).chain(op.reads()) {
                if c != "*" && !classes.iter().any(|k| k == c) {
                    return Err(format!(
                        "variant {:?}: op names unknown class {c:?}",
                        v.name
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> RawSweep {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn sweep_names_and_order() {
        let s = sweep(
            "name = \"variant3_clip_{px}_{share}\"\nfrom = \"base\"\nops = [{op = \"remove_overlap\", class = \"skin\", other = \"hair\", px = \"{px}\", min_kept_share = \"{share}\"}]\nparams = [{px = 8, share = 0.2}, {px = 12, share = 0.25}, {px = 16, share = 0.3}]\n",
        );
        let v = expand_sweep(s).unwrap();
        let names: Vec<&str> = v.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "variant3_clip_8_0_2",
                "variant3_clip_12_0_25",
                "variant3_clip_16_0_3"
            ]
        );
        assert_eq!(
            v[1].ops[0],
            Op::RemoveOverlap {
                class: "skin".into(),
                other: "hair".into(),
                px: 12,
                min_kept_share: 0.25
            }
        );
        let g = sweep("name = \"d{b}_{a}\"\nfrom = \"x\"\nops = [{op = \"dilate\", class = \"*\", px = \"{a}\"}]\ngrid = {b = [\"p\", \"q\"], a = [1, 2, 3]}\n");
        let names: Vec<String> = expand_sweep(g)
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(
            names,
            ["dp_1", "dq_1", "dp_2", "dq_2", "dp_3", "dq_3"],
            "keys sorted: a outermost"
        );
        assert!(expand_sweep(sweep("name = \"x\"\nfrom = \"y\"\nops = []\n")).is_err());
        let bad = sweep("name = \"v{px}\"\nfrom = \"y\"\nops = [{op = \"dilate\", class = \"a\", px = \"{px}\"}]\nparams = [{px = \"wide\"}]\n");
        assert!(expand_sweep(bad).unwrap_err().contains("bad op"));
    }

    #[test]
    fn a_variant_that_empties_a_class_keeps_it() {
        use maskgate_core::Mask;
        let v = Variant {
            name: "v".into(),
            from: "a".into(),
            ops: vec![Op::Erode {
                class: "eyes".into(),
                px: 3,
            }],
        };
        let src = Prediction {
            masks: BTreeMap::from([(
                "eyes".to_string(),
                MaskData::Mask(Mask::from_fn(10, 10, |y, x| y == 4 && x < 3)),
            )]),
            ..Default::default()
        };
        let out = v.derive(&src);
        match &out.masks["eyes"] {
            MaskData::Mask(m) => assert!(m.is_empty()),
            _ => panic!("expected a mask"),
        }
        assert_eq!(out.fail, None);
    }
}
