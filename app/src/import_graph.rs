//! Dependencies between modules run one way: no two top-level modules import each
//! other (directly or round a circle), nor do two modules inside `auth/` (see
//! docs/ARCHITECTURE.md, "The crates and their modules"). Read from the source, so a
//! new `use` that closes a circle fails here, naming it.
//!
//! A module's tests are left out (`#[cfg(test)] mod tests` and `tests/` folders): a
//! test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`auth/guard`) → the module paths it names (`auth/core`, `store/...`).
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `.rs` file of the crate's source, but tests.
fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "tests" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && !name.ends_with("_tests.rs") {
                files.push(path);
            }
        }
    }
    files
}

/// `auth/guard.rs` → `["auth", "guard"]`; `auth/mod.rs` → `["auth"]`; `lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The module paths `source` (the text of module `module`) names through `crate::` or
/// `super::`, outside comments and its test module.
fn references(module: &[String], source: &str) -> BTreeSet<String> {
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut named = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or_default();
        for (start, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            // Only whole words: `supercrate::` is not `crate::`.
            let before = line[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let path: Vec<&str> = line[start..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|part| !part.is_empty())
                .collect();
            let (base, rest) = match path.split_first() {
                Some((&"crate", rest)) => (Vec::new(), rest),
                // `super` of a file module is its parent; leading `super`s stack.
                Some((&"super", _)) => {
                    let ups = path.iter().take_while(|p| **p == "super").count();
                    let keep = module.len().saturating_sub(ups);
                    (module[..keep].to_vec(), &path[ups..])
                }
                _ => continue,
            };
            let target: Vec<String> = base
                .into_iter()
                .chain(rest.iter().map(|p| (*p).to_owned()))
                .collect();
            named.insert(target.join("/"));
        }
    }
    named
}

/// The graph between the children of `prefix` (`""`: the top-level modules): an edge
/// `a → b` when anything inside child `a` names anything inside child `b`.
fn graph_under(prefix: &str) -> Graph {
    let depth = if prefix.is_empty() {
        0
    } else {
        prefix.split('/').count()
    };
    let child = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let inside = prefix.is_empty() || parts.join("/").starts_with(&format!("{prefix}/"));
        (inside && parts.len() > depth).then(|| parts[depth].to_owned())
    };
    let mut graph = Graph::new();
    for file in sources() {
        let module = module_of(&file);
        let Some(from) = child(&module.join("/")) else {
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        for target in references(&module, &source) {
            if let Some(to) = child(&target)
                && to != from
            {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// The circles of `graph`: its strongly connected components of more than one module
/// (Tarjan's algorithm).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    component.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let graph = graph_under("");
    // The reading works: edges everyone knows are there.
    assert!(graph["api"].contains("auth") && graph["auth"].contains("store"));
    assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "{graph:#?}");
}

#[test]
fn no_two_modules_of_the_domain_import_each_other() {
    let graph = graph_under("auth");
    assert!(graph["guard"].contains("core") && graph["sessions"].contains("transactions"));
    assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "{graph:#?}");
}

#[test]
fn a_circle_is_found_however_long() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .into_iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry(from.into()).or_default().insert(to.into());
            g
        });
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    let module = ["auth".to_owned(), "guard".to_owned()];
    assert_eq!(
        references(
            &module,
            "use super::core::Core; // crate::web\nuse crate::store::x;"
        ),
        BTreeSet::from(["auth/core/Core".to_owned(), "store/x".to_owned()])
    );
}
