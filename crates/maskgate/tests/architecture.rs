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
