//! The runtime's modules are layered (the table in `src/lib.rs`): each imports only from the
//! layers below it, and no set of modules imports itself round a circle. This test reads
//! every `crate::` path in the code (comments left out) and fails on an import that goes up,
//! or on a cycle between files, naming the files and the paths.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first, as `src/lib.rs` lists them.
const LAYERS: &[&[&str]] = &[
    &[
        "config",
        "backoff",
        "shutdown",
        "metrics",
        "memory",
        "statement",
        "telemetry",
    ],
    &["secrets"],
    &["settings"],
    &["db", "amqp", "migrations"],
    &["problem"],
    &["http"],
    &["outbox", "consumer", "dead_letters", "lists"],
    &["service"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| {
            panic!(
                "module `{module}` is in no layer: add it to LAYERS and to the table in src/lib.rs"
            )
        })
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/http/server.rs` is `http::server`, `src/http/mod.rs` is `http`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, and without its `#[cfg(test)]` module (a unit
/// test may use what it likes).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            // `//` inside a string (a URL) is rare in the runtime; a comment is far more
            // common, and a path in a string is not an import either.
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths `code` names under `crate::`, each as its segments (`crate::http::{server,
/// health::Probes}` gives `http::server` and `http::health::Probes`).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    relative_paths(code, "crate::", &[])
}

/// The paths `code` (of the module `module`) names under `super::`, from the crate's root.
fn super_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let parent = &module[..module.len().saturating_sub(1)];
    relative_paths(code, "super::", parent)
        .into_iter()
        .map(|path| {
            // `super::super::x`: one level further up for each further `super`.
            let tail = &path[parent.len()..];
            let ups = tail.iter().take_while(|s| *s == "super").count();
            let mut resolved = parent[..parent.len().saturating_sub(ups)].to_vec();
            resolved.extend_from_slice(&tail[ups..]);
            resolved
        })
        .collect()
}

/// The paths after each `prefix` (not part of a longer name) in `code`, after `base`.
fn relative_paths(code: &str, prefix: &str, base: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `shop_runtime::…`, another crate's name ending in "crate", `super::super`
        }
        expand(&code[i + prefix.len()..], base.to_vec(), &mut out);
    }
    out
}

/// Reads one path (with a `{…}` group) at the start of `text`, after `prefix`.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !ident.is_empty() {
            rest = &rest[ident.len()..];
            if rest.starts_with('!') {
                return; // a macro exported at the crate root (`crate::metric_families!`)
            }
            path.push(ident.clone());
        }
        if let Some(r) = rest.strip_prefix("::") {
            rest = r;
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(group.len(), |(i, _)| i);
                for item in split_top(&group[..end]) {
                    expand(item.trim(), path.clone(), out);
                }
                return;
            }
            continue;
        }
        break;
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// `a, b::{c, d}, e` split at the commas outside braces.
fn split_top(list: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

struct Graph {
    /// File module -> the file modules it imports, with a path that shows it.
    edges: BTreeMap<String, BTreeMap<String, String>>,
    problems: Vec<String>,
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = Graph {
        edges: BTreeMap::new(),
        problems: Vec::new(),
    };
    for file in &files {
        let from = module_of(src, file);
        if from.is_empty() {
            continue; // lib.rs: the module list and the crate's re-exports
        }
        let text = std::fs::read_to_string(file).unwrap();
        let code = code(&text);
        let paths = crate_paths(&code)
            .into_iter()
            .chain(super_paths(&code, &from));
        for path in paths {
            // The deepest file module the path names.
            let to = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|m| modules.contains(m));
            let shown = format!("crate::{}", path.join("::"));
            if path.is_empty() {
                continue;
            }
            let Some(to) = to else {
                graph.problems.push(format!(
                    "{}: `{shown}` does not go through the module it comes from (use its module path, not a re-export at the crate root)",
                    file.display()
                ));
                continue;
            };
            let (from_top, to_top) = (&from[0], &to[0]);
            if from_top != to_top && layer_of(to_top) > layer_of(from_top) {
                graph.problems.push(format!(
                    "{}: `{shown}` imports from layer {} ({to_top}) into layer {} ({from_top})",
                    file.display(),
                    layer_of(to_top),
                    layer_of(from_top)
                ));
            }
            if to != from && !from.starts_with(&to) {
                graph
                    .edges
                    .entry(from.join("::"))
                    .or_default()
                    .entry(to.join("::"))
                    .or_insert(shown);
            }
        }
    }
    graph
}

/// One cycle in `edges`, if any, as the modules round it with the paths that tie them.
fn find_cycle(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeMap<String, String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<(String, String)>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        for (next, shown) in edges.get(node).into_iter().flatten() {
            stack.push((node.to_owned(), shown.clone()));
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|(n, _)| n == next).unwrap_or(0);
                    return Some(
                        stack[start..]
                            .iter()
                            .map(|(n, s)| format!("{n} uses {s}"))
                            .collect(),
                    );
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
            }
            stack.pop();
        }
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str())
            && let Some(cycle) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_runtime_imports_only_downwards_and_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    assert!(
        graph.problems.is_empty(),
        "imports against the layers:\n{}",
        graph.problems.join("\n")
    );
    if let Some(cycle) = find_cycle(&graph.edges) {
        panic!(
            "a cycle between the runtime's modules:\n{}",
            cycle.join("\n")
        );
    }
    // The check reads what it should: the runtime has layers, and imports between them.
    assert!(graph.edges.len() > 20, "{:?}", graph.edges.keys());
}

#[test]
fn the_check_finds_a_cycle_and_an_upward_import() {
    let edges: BTreeMap<String, BTreeMap<String, String>> = [
        ("a", "b", "crate::b::X"),
        ("b", "c", "crate::c::Y"),
        ("c", "a", "crate::a::Z"),
    ]
    .into_iter()
    .map(|(from, to, shown)| {
        (
            from.to_owned(),
            BTreeMap::from([(to.to_owned(), shown.to_owned())]),
        )
    })
    .collect();
    let cycle = find_cycle(&edges).expect("a cycle");
    assert_eq!(cycle.len(), 3, "{cycle:?}");

    let paths = crate_paths(&code(
        "use crate::http::{server::serve, health::{self, Probes}};\nlet x = crate::db::connect(); // crate::service::x\nlet y = shop_runtime::service::Core;\nmy_crate::lists::X",
    ));
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "http::server::serve",
            "http::health::self",
            "http::health::Probes",
            "db::connect"
        ]
    );

    let module = ["lists".to_owned(), "cache".to_owned()];
    let supers = super_paths(
        "use super::feed::ChangeFeed;\nuse super::super::db::x;",
        &module,
    );
    let shown: Vec<String> = supers.iter().map(|p| p.join("::")).collect();
    assert_eq!(shown, ["lists::feed::ChangeFeed", "db::x"]);
}
