//! Looking at a configuration without building it: each step's current
//! canonical inputs, key and cache state (`show-info`), what changed since
//! the last build (`why`; a remote cache's answer in `whyremote`), and the
//! package graph (`graph-depends`).

use crate::error::{Error, Result};
use crate::key::Inputs;
use crate::plan::StepKind;
use crate::run::build::Build;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// One step as the cache sees it now.
pub struct StepView {
    pub name: String,
    /// `None` when a dependency must be rebuilt first (its output is unknown).
    pub inputs: Option<Inputs>,
    pub key: Option<String>,
    /// The output digest, when the key is cached.
    pub cached: Option<String>,
    /// The first dependency that is not cached.
    pub waits_for: Option<String>,
}

/// Every step's view, in plan order, as the local cache sees it. Runs
/// nothing.
pub fn evaluate(build: &Build) -> Result<Vec<StepView>> {
    evaluate_with(
        build,
        |_| true,
        |key| build.store.action(key).map(|a| a.manifest),
    )
}

/// The views of the steps `wanted` says (a dependency closure; the others
/// are left unknown), a key's output digest being what `cached` says.
pub(super) fn evaluate_with(
    build: &Build,
    wanted: impl Fn(usize) -> bool,
    cached: impl Fn(&str) -> Option<String>,
) -> Result<Vec<StepView>> {
    let plan = build.plan;
    let mut views: Vec<StepView> = Vec::with_capacity(plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate() {
        if !wanted(i) {
            views.push(StepView {
                name: step.name.clone(),
                inputs: None,
                key: None,
                cached: None,
                waits_for: None,
            });
            continue;
        }
        let dep_outputs: Option<Vec<String>> =
            step.deps.iter().map(|d| views[*d].cached.clone()).collect();
        let view = match dep_outputs {
            Some(outs) => {
                let inputs = build.inputs(i, &outs)?;
                let key = inputs.key();
                let cached = cached(&key);
                if let Some(out) = &cached {
                    build.note_done(i, out);
                }
                StepView {
                    name: step.name.clone(),
                    inputs: Some(inputs),
                    key: Some(key),
                    cached,
                    waits_for: None,
                }
            }
            None => {
                let first = step
                    .deps
                    .iter()
                    .find(|d| views[**d].cached.is_none())
                    .map(|d| plan.steps[*d].name.clone());
                StepView {
                    name: step.name.clone(),
                    inputs: None,
                    key: None,
                    cached: None,
                    waits_for: first,
                }
            }
        };
        views.push(view);
    }
    Ok(views)
}

/// `forge show-info`: the selected packages as JSON.
pub fn show_info(build: &Build) -> Result<String> {
    let views = evaluate(build)?;
    let mut packages = Vec::new();
    for (step, view) in build.plan.steps.iter().zip(&views) {
        let StepKind::Package(name) = &step.kind else {
            continue;
        };
        let l = &build.project.recipes[name];
        let r = &l.recipe;
        packages.push(json!({
            "name": r.name,
            "version": r.version,
            "license": r.license,
            "description": r.description,
            "source": r.source,
            "dependencies": r.depends,
            "recipe": l.file.strip_prefix(&build.project.root).unwrap_or(&l.file),
            "overrides": build.project.overridden.get(name),
            "key": view.key,
            "cached": view.cached.is_some(),
        }));
    }
    serde_json::to_string_pretty(&packages).map_err(|e| Error::Other(e.to_string()))
}

/// `forge why STEP`: what changed in the step's inputs since the last
/// build; with a remote cache, then what the remote cache would answer
/// (see [`super::whyremote`]).
pub fn why(build: &Build, step: &str, output: &Path) -> Result<String> {
    let mut text = why_local(build, step, output)?;
    if let (Some(remote), Some(index)) = (build.remote(), build.plan.index(step)) {
        text.push_str(&super::whyremote::explain(build, index, remote)?);
    }
    Ok(text)
}

/// The explanation from the local cache and the output dir's last build.
fn why_local(build: &Build, step: &str, output: &Path) -> Result<String> {
    let views = evaluate(build)?;
    let Some(index) = build.plan.index(step) else {
        let names: Vec<String> = build.plan.steps.iter().map(|s| s.name.clone()).collect();
        return Err(Error::UnknownStep {
            name: step.to_string(),
            suggestion: crate::plan::suggest(step, names.iter()),
        });
    };
    let view = &views[index];
    if let Some(dep) = &view.waits_for {
        let inner = why_local(build, dep, output)?;
        return Ok(format!(
            "{step}: waits for {dep}, which must be rebuilt first ({step} rebuilds only if {dep}'s output changes):\n{inner}"
        ));
    }
    let previous = last_key(output, step)
        .and_then(|k| build.store.action(&k))
        .map(|a| a.inputs.into_iter().collect::<BTreeMap<String, String>>());
    let current: BTreeMap<String, String> = view
        .inputs
        .as_ref()
        .map(|i| i.pairs().into_iter().collect())
        .unwrap_or_default();
    let changes = previous
        .as_ref()
        .map(|p| describe_changes(p, &current))
        .unwrap_or_default();
    let mut text = match (&view.cached, previous.is_some()) {
        (Some(_), _) if changes.is_empty() => {
            format!("{step}: cached (nothing changed since the last build)\n")
        }
        (Some(_), true) => {
            format!("{step}: cached (an earlier build had these inputs); since the last build:\n")
        }
        (Some(_), false) => format!("{step}: cached\n"),
        (None, true) => format!("{step}: will rebuild; since the last build:\n"),
        (None, false) => {
            format!("{step}: will build (no earlier build of it is recorded in this output dir)\n")
        }
    };
    for c in changes {
        text.push_str(&format!("  {c}\n"));
    }
    Ok(text)
}

/// The key `step` had when this output dir last built it.
fn last_key(output: &Path, step: &str) -> Option<String> {
    crate::run::record::remembered_keys(output).remove(step)
}

/// Human sentences for the differences between two input lists.
pub(super) fn describe_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in new {
        match old.get(k) {
            Some(o) if o == v => {}
            Some(o) => out.push(describe(k, Some(o), Some(v))),
            None => out.push(describe(k, None, Some(v))),
        }
    }
    for (k, o) in old {
        if !new.contains_key(k) {
            out.push(describe(k, Some(o), None));
        }
    }
    out
}

fn describe(name: &str, old: Option<&str>, new: Option<&str>) -> String {
    if let Some(opt) = name.strip_prefix("option ") {
        return format!(
            "option {opt}: {:?} -> {:?}",
            old.unwrap_or("(unset)"),
            new.unwrap_or("(unset)")
        );
    }
    if let Some(dep) = name.strip_prefix("dep ") {
        return format!("dependency {dep}: its output changed");
    }
    if let Some(file) = name.strip_prefix("file ") {
        return format!("file {file}: content changed");
    }
    match (name, old, new) {
        ("package-dir", _, _) => "recipe folder: a file in the package folder changed".into(),
        ("recipe", _, _) => "recipe fields changed".into(),
        ("source", _, _) | ("source override", _, _) => format!("{name}: content changed"),
        ("host compiler", _, _) => "the host cross compiler changed".into(),
        ("forge.procedure", _, _) => "forge's build procedure for this kind changed".into(),
        (_, None, _) => format!("{name}: new input"),
        (_, _, None) => format!("{name}: no longer an input"),
        _ => format!("{name}: changed"),
    }
}

/// `forge graph-depends`: the package graph in DOT.
pub fn graph_dot(build: &Build) -> String {
    let mut dot = String::from("digraph depends {\n  rankdir=LR;\n  node [shape=box];\n");
    for step in &build.plan.steps {
        if let StepKind::Package(_) | StepKind::HostPackage(_) = &step.kind {
            let name = &step.name;
            dot.push_str(&format!("  \"{name}\";\n"));
            for dep in &step.deps {
                let dep = &build.plan.steps[*dep].name;
                dot.push_str(&format!("  \"{name}\" -> \"{dep}\";\n"));
            }
        }
    }
    dot.push_str("}\n");
    dot
}
