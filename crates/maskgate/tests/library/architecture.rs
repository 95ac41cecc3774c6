//! The data flow is the architecture: no import cycle at any module level of any crate.
//!
//! Every `.rs` file of every workspace crate is parsed with `syn`, a real Rust parser, so
//! rustfmt's multi-line `use crate::{…}` groups, nested groups, renames, globs, `super::` and
//! `self::` paths and paths in expressions and types are all edges. A path is resolved to the
//! deepest module it names; an edge from module `a::x::…` to `a::y::…` is an edge between the
//! siblings `x` and `y` at level `a`. A cycle among siblings at any level fails the test with
//! the modules on it. A parent's own items and its children may use each other (a `mod.rs`
//! declares a seam and registers the files that implement it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

type ModPath = Vec<String>;

/// The workspace crates' source folders.
fn crate_sources() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file defines: `lib.rs`/`main.rs` → [], `read/mod.rs` → [read],
/// `read/coco.rs` → [read, coco].
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Collects the paths a file refers to, each made absolute within its crate.
struct Refs<'a> {
    module: ModPath,
    crate_names: &'a [String],
    found: Vec<(ModPath, ModPath)>,
}

impl Refs<'_> {
    /// `segments` as written in module `self.module`, made absolute (`None`: another crate or a
    /// local name).
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let first = segments.first()?;
        if first == "crate" || self.crate_names.contains(first) {
            return Some(segments[1..].to_vec());
        }
        if first != "self" && first != "super" {
            return None;
        }
        let mut base = self.module.clone();
        let mut rest = segments;
        while let Some(head) = rest.first() {
            match head.as_str() {
                "self" => {}
                "super" => {
                    base.pop()?;
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn add(&mut self, segments: &[String]) {
        if let Some(to) = self.resolve(segments) {
            self.found.push((self.module.clone(), to));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(&full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.add(&full);
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.use_tree(&mut prefix, &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // An inline `mod name { … }` is a module of its own.
        if m.content.is_some() {
            self.module.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.module.pop();
        }
    }
}

/// Every (from, to) module edge of the crate whose files are `files` (path, text).
fn edges_of(files: &[(ModPath, String)], crate_names: &[String]) -> Vec<(ModPath, ModPath)> {
    let mut edges = Vec::new();
    for (module, text) in files {
        let ast = syn::parse_file(text).unwrap_or_else(|e| panic!("{module:?}: {e}"));
        let mut refs = Refs {
            module: module.clone(),
            crate_names,
            found: Vec::new(),
        };
        refs.visit_file(&ast);
        edges.extend(refs.found);
    }
    edges
}

/// Sibling graphs, one per level: at level `L`, an edge `x → y` between two children of `L`.
fn sibling_graphs(
    modules: &BTreeSet<ModPath>,
    edges: &[(ModPath, ModPath)],
) -> BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> {
    // The deepest known module a path names (the rest are items).
    let owner = |p: &ModPath| -> ModPath {
        (0..=p.len())
            .rev()
            .map(|n| p[..n].to_vec())
            .find(|m| modules.contains(m))
            .unwrap_or_default()
    };
    let mut levels: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, to) in edges {
        let to = owner(to);
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        // A module and its own ancestors or descendants are not siblings.
        if common == from.len() || common == to.len() {
            continue;
        }
        levels
            .entry(from[..common].to_vec())
            .or_default()
            .entry(from[common].clone())
            .or_default()
            .insert(to[common].clone());
    }
    levels
}

/// A cycle through `start`, if any (depth-first search over the graph).
fn cycle_from(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn dfs(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(node).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if dfs(g, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    dfs(g, start, start, &mut path, &mut seen).then(|| {
        path.push(start.to_string());
        path
    })
}

/// Every cycle at every level, as `crate::level: a → b → a` (`crate: …` at the root).
fn cycles(crate_name: &str, files: &[(ModPath, String)]) -> (usize, Vec<String>) {
    let names = [crate_name.replace('-', "_")];
    let mut modules: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    // Inline modules are modules too.
    for (m, text) in files {
        let ast = syn::parse_file(text).unwrap();
        for item in &ast.items {
            if let syn::Item::Mod(im) = item {
                if im.content.is_some() {
                    let mut p = m.clone();
                    p.push(im.ident.to_string());
                    modules.insert(p);
                }
            }
        }
    }
    let edges = edges_of(files, &names);
    let mut found = Vec::new();
    for (level, g) in sibling_graphs(&modules, &edges) {
        for m in g.keys() {
            if let Some(c) = cycle_from(&g, m) {
                found.push(format!(
                    "{crate_name}::{}: {}",
                    level.join("::"),
                    c.join(" → ")
                ));
            }
        }
    }
    (edges.len(), found)
}

fn crate_files(src: &Path) -> Vec<(ModPath, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    files
        .iter()
        // A binary's entry point is its own crate root beside lib.rs.
        .filter(|f| !f.ends_with("main.rs") || !src.join("lib.rs").exists())
        .map(|f| (module_of(src, f), std::fs::read_to_string(f).unwrap()))
        .collect()
}

#[test]
fn no_crate_has_an_import_cycle_at_any_module_level() {
    let mut all = Vec::new();
    let mut crates = 0;
    for src in crate_sources() {
        let name = src
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let files = crate_files(&src);
        let (edges, found) = cycles(&name, &files);
        if name == "maskgate" {
            assert!(files.len() > 50, "found only {} files", files.len());
            assert!(
                edges > 500,
                "found only {edges} edges: the parser saw nothing"
            );
        }
        crates += 1;
        all.extend(found);
    }
    assert!(crates >= 3, "found only {crates} crates");
    assert!(all.is_empty(), "import cycles:\n{}", all.join("\n"));
}

#[test]
fn planted_edges_are_found_whatever_their_form() {
    // rustfmt's multi-line group, a nested group and a `super::` path, each closing a cycle.
    let files = vec![
        (vec![], "pub mod stage;".to_string()),
        (
            vec!["stage".into()],
            "pub mod a; pub mod b; pub mod c;".into(),
        ),
        (
            vec!["stage".into(), "a".into()],
            "use crate::{\n    stage::{\n        b::Thing,\n    },\n    other,\n};".into(),
        ),
        (
            vec!["stage".into(), "b".into()],
            "pub struct Thing;\nfn f() { let _ = super::c::g(); }".into(),
        ),
        (
            vec!["stage".into(), "c".into()],
            "pub fn g() -> Option<self::super::a::X> { None }".into(),
        ),
    ];
    let (_, found) = cycles("planted", &files);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].starts_with("planted::stage: a → b → c → a"),
        "{found:?}"
    );
    // One edge less (no `super::c` in b), no cycle.
    let mut acyclic = files.clone();
    acyclic[3].1 = "pub struct Thing;".into();
    assert!(cycles("planted", &acyclic).1.is_empty());
    // Top-level edges through `crate::` in an inline module count too.
    let inline = vec![(
        vec![],
        "mod x { use crate::y::Y; } mod y { pub struct Y; fn f() { crate::x::g(); } }".to_string(),
    )];
    assert_eq!(cycles("inline", &inline).1.len(), 2);
}

/// Metrics added through the registry alone (one file in `score/metrics/` plus its line in
/// `REGISTRY`): their names must appear nowhere else in the library's sources.
const ADDED_BY_REGISTRY_ONLY: &[&str] = &["f05"];

fn library_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Scores of two arms on a few 6×6 samples: the baseline predicts the top `rows` rows, the
/// candidate one row more, so every count metric is defined and moves.
fn two_arm_scores() -> Vec<maskgate::score::SampleScore> {
    use maskgate::model::MaskData;
    use maskgate::score::{score_masks, ScoreSettings};
    use maskgate_core::Mask;
    use std::collections::BTreeMap;
    let classes = ["fg".to_string()];
    let mut scores = Vec::new();
    for (arm, extra) in [("base", 0), ("cand", 1)] {
        for i in 0..6u32 {
            let gt = Mask::from_fn(6, 6, |y, x| y < 3 && x <= i);
            let pred = Mask::from_fn(6, 6, |y, _| y < 1 + (i % 3) + extra);
            let mut s = score_masks(
                (6, 6),
                &classes,
                BTreeMap::from([("fg".to_string(), MaskData::Mask(gt))]),
                BTreeMap::from([("fg".to_string(), MaskData::Mask(pred))]),
                None,
                &ScoreSettings::default(),
            );
            s.arm = arm.into();
            s.corpus = "c".into();
            s.id = format!("s{i}");
            scores.push(s);
        }
    }
    scores
}

/// Every registered metric reaches every consumer without an edit outside its file: the
/// per-sample JSON, the class row's columns and the summary's (when it has one), the bootstrap's
/// deltas and intervals, the ranked samples, the shard marker and rows and the criteria's names.
/// The fixture defines every metric on every sample, so each consumer must carry a number (not
/// only a key), and the numbers are checked against the scores they come from.
#[test]
fn every_registered_metric_reaches_every_consumer() {
    use maskgate::aggregate::{find_row, metrics_rows, summary_rows, ROW_STATS, SUMMARY_STATS};
    use maskgate::compare::{compare, BaselineDraws, CompareSettings};
    use maskgate::decide::criteria::resolve_metric;
    use maskgate::score::REGISTRY;
    use maskgate::shard::{commit, Committed, Hardware, Names, RunStamp, ShardRows, ShardSpec};
    let scores = two_arm_scores();
    for s in &scores {
        let fg = s.classes.get("fg").unwrap();
        assert!(
            fg.values.iter().all(Option::is_some),
            "the fixture defines every metric: {} {}: {:?}",
            s.arm,
            s.id,
            fg.values
        );
    }
    let rows = metrics_rows(&scores, &[], 0.5);
    let sums = summary_rows(&scores, &[], 0.5);
    let settings = CompareSettings {
        top_k: 3,
        pass_iou: 0.5,
        resamples: 200,
        seed: 1,
        keep_draws: true,
    };
    let c = compare(
        "cand",
        "base",
        "c",
        &rows,
        &sums,
        &[],
        &scores,
        &[],
        &settings,
        &BaselineDraws::default(),
    );
    let class = c.delta("all", "all", Some("fg")).expect("class delta");
    let summary = c.delta("all", "all", None).expect("summary delta");
    let row_of = |arm: &str| find_row(&rows, arm, "c", "all", "all", "fg").unwrap();
    let (base_row, cand_row) = (row_of("base"), row_of("cand"));
    assert!(
        !c.regressions.is_empty() && !c.improvements.is_empty(),
        "the fixture has both: {} regressions, {} improvements",
        c.regressions.len(),
        c.improvements.len()
    );
    let sample = serde_json::to_value(&scores[0]).unwrap();
    let row = serde_json::to_value(base_row).unwrap();
    let sum = serde_json::to_value(&sums[0]).unwrap();
    let shard = ShardRows {
        scores: scores.clone(),
        ..Default::default()
    };
    let back = ShardRows::from_bytes(&shard.to_bytes(), &mut Names::default(), "t").unwrap();
    assert_eq!(back.scores, scores, "shard rows round-trip");
    let dir = tempfile::tempdir().unwrap();
    let store = maskgate::storage::LocalStore::new(dir.path());
    let committed = commit(
        &store,
        &"ab".repeat(32),
        ShardSpec { index: 0, count: 1 },
        scores.len(),
        &shard,
        Hardware::of_this_host("cpu"),
        RunStamp {
            run_id: "r".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
        },
    )
    .unwrap();
    let marker = match committed {
        Committed::Now(m) => m,
        other => panic!("a fresh store: {other:?}"),
    };
    for (i, m) in REGISTRY.iter().enumerate() {
        let name = m.name;
        assert!(
            sample["classes"]["fg"][name].as_f64().is_some(),
            "{name}: samples.jsonl"
        );
        assert!(ROW_STATS.contains(&m.mean_column), "{name}: metrics.csv");
        assert!(
            row[m.mean_column].as_f64().is_some(),
            "{name}: report.json row"
        );
        for (arm, r) in [("base", base_row), ("cand", cand_row)] {
            let values: Vec<f64> = scores
                .iter()
                .filter(|s| &*s.arm == arm)
                .map(|s| s.classes.get("fg").unwrap().metric(name).unwrap())
                .collect();
            let want = values.iter().sum::<f64>() / values.len() as f64;
            let got = r.stat(m.mean_column).flatten().unwrap();
            assert!(
                (got - want).abs() < 1e-12,
                "{name}: {arm}'s row mean {got}, its scores' {want}"
            );
        }
        let delta = class.deltas.get(m.mean_column).copied().flatten();
        let want = cand_row.stat(m.mean_column).flatten().unwrap()
            - base_row.stat(m.mean_column).flatten().unwrap();
        assert_eq!(delta, Some(want), "{name}: class delta");
        assert!(
            class.ci95.get(m.mean_column).copied().flatten().is_some(),
            "{name}: class bootstrap interval"
        );
        for r in c.regressions.iter().chain(&c.improvements) {
            assert!(
                r.deltas.get(name).copied().flatten().is_some(),
                "{name}: ranked sample {}",
                r.id
            );
        }
        assert_eq!(marker.metrics[i], name, "{name}: shard marker");
        assert!(
            resolve_metric(&format!("{name}.mean"), true).is_ok(),
            "{name}: class criteria"
        );
        let whole = resolve_metric(&format!("{name}.mean"), false);
        if m.summary.is_some() {
            assert!(SUMMARY_STATS.contains(&m.mean_column), "{name}: summary");
            assert!(sum[m.mean_column].as_f64().is_some(), "{name}: summary row");
            assert!(
                summary
                    .deltas
                    .get(m.mean_column)
                    .copied()
                    .flatten()
                    .is_some(),
                "{name}: summary delta"
            );
            assert!(
                summary.ci95.get(m.mean_column).copied().flatten().is_some(),
                "{name}: summary bootstrap interval"
            );
            assert!(whole.is_ok(), "{name}: whole-sample criteria");
        } else if i != 0 {
            // IoU (first) has no summary column of its own: without a class it means mIoU.
            let err = whole.unwrap_err();
            assert!(err.contains("give a class"), "{name}: {err}");
        }
    }
    assert_eq!(marker.metrics.len(), REGISTRY.len(), "shard marker");
    let err = resolve_metric("nonsense.mean", true).unwrap_err();
    for m in REGISTRY {
        assert!(err.contains(m.name), "the criteria list {}: {err}", m.name);
    }
}

/// The "a metric" row of `docs/src/architecture.md` names the registry path, every file in
/// `score/metrics/` is registered, and the metrics added that way are named nowhere else.
#[test]
fn adding_a_metric_touches_only_its_file_and_the_registry() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/architecture.md"),
    )
    .unwrap();
    let row = docs
        .lines()
        .find(|l| l.starts_with("| a metric |"))
        .expect("docs/src/architecture.md has a files-touched row for a metric");
    assert!(
        row.contains("score/metrics/<name>.rs") && row.contains("score::metrics::REGISTRY"),
        "{row}"
    );
    let folder = library_src().join("score/metrics");
    let registry = std::fs::read_to_string(folder.join("mod.rs")).unwrap();
    let mut files = Vec::new();
    rust_files(&folder, &mut files);
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        if stem == "mod" {
            continue;
        }
        assert!(
            registry.contains(&format!("mod {stem};"))
                && registry.contains(&format!("{stem}::METRIC,")),
            "score/metrics/{stem}.rs is not registered in REGISTRY"
        );
    }
    assert_eq!(
        maskgate::score::REGISTRY.len(),
        registry.matches("::METRIC,").count(),
        "one registration line per metric"
    );
    let mut sources = Vec::new();
    rust_files(&library_src(), &mut sources);
    for name in ADDED_BY_REGISTRY_ONLY {
        assert!(maskgate::score::metrics::find(name).is_some(), "{name}");
        for f in &sources {
            if f.starts_with(&folder) {
                continue;
            }
            let text = std::fs::read_to_string(f).unwrap();
            assert!(
                !text.contains(&format!("\"{name}")),
                "{name} is named in {}: a metric should need only its file and its registry line",
                f.display()
            );
        }
    }
}
