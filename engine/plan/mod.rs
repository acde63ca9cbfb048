//! Planning: the selected packages and the assembly steps (the root
//! filesystem, one step per selected image format, the disk image) become a
//! DAG of steps (petgraph), with unknown dependencies and cycles reported by
//! name, and image settings that cannot work reported before anything runs.

mod assembly;
pub mod debian;
pub mod imageopts;
mod package;
mod resolve;
mod source;

pub use package::missing_compiler;
pub use resolve::Resolver;

use crate::error::{Error, Result};
use crate::load::config::Value;
use crate::load::project::Project;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Build one package from its recipe.
    Package(String),
    /// Build a recipe for the build machine (`host-<recipe>`, named in a
    /// `depends`): into `host/`, with the host compiler, keyed without the
    /// target.
    HostPackage(String),
    /// A Debian system made by mmdebstrap from the lock (`DEBIAN_ROOTFS`):
    /// the base the packages are merged over.
    DebianRootfs,
    /// Merge the selected packages' `target/` trees into the root filesystem.
    Rootfs,
    /// Write the root filesystem as a filesystem image.
    RootfsImage(ImageFormat),
    /// Write the partitioned disk image `DISK_IMAGE_LAYOUT` describes from
    /// the `images/` of every step before it.
    DiskImage,
    /// Run the post-image scripts over every image.
    PostImage,
}

/// The root filesystem image formats, each selected by its option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Cpio,
    Tar,
    Ext4,
    Squashfs,
    Ubifs,
    /// The UBIFS image wrapped for raw flash; made from `rootfs-ubifs`'s
    /// output, not from the root filesystem.
    Ubi,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 6] = [
        ImageFormat::Cpio,
        ImageFormat::Tar,
        ImageFormat::Ext4,
        ImageFormat::Squashfs,
        ImageFormat::Ubifs,
        ImageFormat::Ubi,
    ];

    /// `cpio`, `tar`, … as in step names (`rootfs-cpio`).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Cpio => "cpio",
            ImageFormat::Tar => "tar",
            ImageFormat::Ext4 => "ext4",
            ImageFormat::Squashfs => "squashfs",
            ImageFormat::Ubifs => "ubifs",
            ImageFormat::Ubi => "ubi",
        }
    }

    /// The bool option selecting the format.
    pub fn option(self) -> &'static str {
        match self {
            ImageFormat::Cpio => "ROOTFS_CPIO",
            ImageFormat::Tar => "ROOTFS_TAR",
            ImageFormat::Ext4 => "ROOTFS_EXT4",
            ImageFormat::Squashfs => "ROOTFS_SQUASHFS",
            ImageFormat::Ubifs => "ROOTFS_UBIFS",
            ImageFormat::Ubi => "ROOTFS_UBI",
        }
    }

    /// Whether the format is written from the root filesystem (with the
    /// device tables); UBI wraps the UBIFS image instead.
    pub fn from_rootfs(self) -> bool {
        self != ImageFormat::Ubi
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    /// Indices of the steps this one reads, in the order they are merged.
    pub deps: Vec<usize>,
}

/// Steps in topological order (every step after all of its dependencies).
#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Steps needed for `target` (it and everything it reads, transitively).
    pub fn closure(&self, target: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(self.steps[i].deps.iter().copied());
            }
        }
        seen
    }
}

/// The recipe a package step builds and whether it builds it for the
/// build machine: `name` itself, or `host-<recipe>` when no recipe has
/// that name.
pub fn package_of<'a>(project: &Project, name: &'a str) -> Option<(&'a str, bool)> {
    if project.recipes.contains_key(name) {
        return Some((name, false));
    }
    let recipe = name.strip_prefix("host-")?;
    project
        .recipes
        .contains_key(recipe)
        .then_some((recipe, true))
}

fn is_toolchain(project: &Project, name: &str) -> bool {
    project.recipes.get(name).is_some_and(|l| {
        matches!(
            l.recipe.kind,
            crate::load::recipe::Kind::ExternalToolchain { .. }
        )
    })
}

/// Plan the build for the resolved option values.
pub fn plan(project: &Project, values: &BTreeMap<String, Value>) -> Result<Plan> {
    let enabled = |sym: &str| values.get(sym).is_some_and(Value::is_true);
    // Selected packages and, transitively, what they depend on.
    let mut selected = BTreeSet::new();
    let mut todo: Vec<String> = project
        .recipes
        .values()
        .filter(|l| enabled(&l.enabled_by()))
        .map(|l| l.recipe.name.clone())
        .collect();
    // Each selected step's dependencies, by step name.
    let mut deps_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while let Some(name) = todo.pop() {
        if !selected.insert(name.clone()) {
            continue;
        }
        let (recipe, host) = package_of(project, &name).ok_or_else(|| {
            Error::Other(format!(
                "internal: {name} is neither a recipe nor a host variant of one"
            ))
        })?;
        let loaded = &project.recipes[recipe];
        let mut deps = Vec::new();
        for dep in &loaded.recipe.depends {
            if package_of(project, dep).is_none() {
                let location = loaded.locate(&format!("\"{dep}\""));
                let hint = suggest(dep, project.recipes.keys());
                return Err(Error::Plan {
                    location: location.to_string(),
                    message: format!("field `depends`: unknown package {dep:?}{hint}"),
                });
            }
            // A host package depends on the host variants of what its
            // recipe depends on; the cross toolchain is not one of them.
            let dep = match host {
                false => dep.clone(),
                true if dep.starts_with("host-") => dep.clone(),
                true if is_toolchain(project, dep) => continue,
                true => format!("host-{dep}"),
            };
            deps.push(dep.clone());
            todo.push(dep);
        }
        deps_of.insert(name, deps);
    }

    let mut graph: DiGraph<String, ()> = DiGraph::new();
    let nodes: BTreeMap<String, NodeIndex> = selected
        .iter()
        .map(|n| (n.clone(), graph.add_node(n.clone())))
        .collect();
    for name in &selected {
        for dep in &deps_of[name] {
            graph.add_edge(nodes[name], nodes[dep], ());
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        let first =
            &project.recipes[package_of(project, &cycle[0]).map_or(cycle[0].as_str(), |p| p.0)];
        let location = first.locate("depends");
        return Err(Error::Plan {
            location: location.to_string(),
            message: format!(
                "dependency cycle: {}; remove one of these dependencies",
                cycle.join(" -> ")
            ),
        });
    }

    // Topological order, ties broken by name so plans are stable: in rounds,
    // every package whose dependencies are all placed, in name order.
    let names: Vec<&String> = selected.iter().collect();
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    let mut remaining: Vec<usize> = vec![0; names.len()];
    for (i, name) in names.iter().enumerate() {
        for dep in &deps_of[*name] {
            dependents[index[dep.as_str()]].push(i);
            remaining[i] += 1;
        }
    }
    let mut round: Vec<usize> = (0..names.len()).filter(|i| remaining[*i] == 0).collect();
    let mut order: Vec<String> = Vec::with_capacity(names.len());
    let mut position: Vec<usize> = vec![0; names.len()];
    while !round.is_empty() {
        let mut next = Vec::new();
        for &i in &round {
            position[i] = order.len();
            order.push(names[i].clone());
            for &t in &dependents[i] {
                remaining[t] -= 1;
                if remaining[t] == 0 {
                    next.push(t);
                }
            }
        }
        // Indices follow name order.
        next.sort_unstable();
        round = next;
    }

    let mut steps: Vec<Step> = Vec::new();
    for name in &order {
        let deps = deps_of[name]
            .iter()
            .map(|d| position[index[d.as_str()]])
            .collect();
        let kind = match package_of(project, name) {
            Some((recipe, true)) => StepKind::HostPackage(recipe.to_string()),
            _ => StepKind::Package(name.clone()),
        };
        steps.push(Step {
            name: name.clone(),
            kind,
            deps,
        });
    }
    // Host packages install nothing into the target.
    let debian = enabled("DEBIAN_ROOTFS");
    let mut packages: Vec<usize> = (0..steps.len())
        .filter(|i| match &steps[*i].kind {
            // A Debian base brings its own C library: the external
            // toolchain's target libraries stay in the sysroot.
            StepKind::Package(name) => !(debian && is_toolchain(project, name)),
            _ => false,
        })
        .collect();
    // A Debian system is the base every package is merged over.
    if debian {
        packages.insert(0, steps.len());
        steps.push(Step {
            name: "debian-rootfs".into(),
            kind: StepKind::DebianRootfs,
            deps: Vec::new(),
        });
    }
    if !packages.is_empty() {
        let rootfs = steps.len();
        steps.push(Step {
            name: "rootfs".into(),
            kind: StepKind::Rootfs,
            deps: packages,
        });
        // ROOTFS_UBI selects ROOTFS_UBIFS; rootfs-ubi reads its output.
        let ubi = enabled(ImageFormat::Ubi.option());
        let wanted = |f: &ImageFormat| enabled(f.option()) || (*f == ImageFormat::Ubifs && ubi);
        for format in ImageFormat::ALL.into_iter().filter(wanted) {
            let ubifs = StepKind::RootfsImage(ImageFormat::Ubifs);
            let from = if format.from_rootfs() {
                rootfs
            } else {
                steps
                    .iter()
                    .rposition(|s| s.kind == ubifs)
                    .unwrap_or(rootfs)
            };
            steps.push(Step {
                name: format!("rootfs-{}", format.name()),
                kind: StepKind::RootfsImage(format),
                deps: vec![from],
            });
        }
    }
    // The disk image reads what every step before it put in `images/`.
    let layout = values
        .get("DISK_IMAGE_LAYOUT")
        .is_some_and(|v| !v.as_text().trim().is_empty());
    if layout {
        let deps = (0..steps.len())
            .filter(|i| steps[*i].kind != StepKind::Rootfs)
            .collect();
        steps.push(Step {
            name: "disk-image".into(),
            kind: StepKind::DiskImage,
            deps,
        });
    }
    // The post-image scripts see every image, the disk image included.
    let post_image = values
        .get("POST_IMAGE_SCRIPT")
        .is_some_and(|v| !v.as_text().trim().is_empty());
    if post_image && !steps.is_empty() {
        steps.push(Step {
            name: "post-image".into(),
            kind: StepKind::PostImage,
            deps: (0..steps.len()).collect(),
        });
    }
    Ok(Plan { steps })
}

/// One cycle in the graph, as package names, closed (`a -> b -> a`).
fn find_cycle(graph: &DiGraph<String, ()>) -> Option<Vec<String>> {
    let scc = tarjan_scc(graph).into_iter().find(|c| c.len() > 1)?;
    let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
    let start = *members.iter().min_by_key(|n| graph[**n].clone())?;
    let mut path = vec![start];
    let mut cur = start;
    loop {
        let next = graph
            .neighbors(cur)
            .filter(|n| members.contains(n))
            .min_by_key(|n| graph[*n].clone())?;
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut names: Vec<String> = path[pos..].iter().map(|n| graph[*n].clone()).collect();
            names.push(graph[next].clone());
            return Some(names);
        }
        path.push(next);
        cur = next;
    }
}

/// ", did you mean X?" when a known name is close.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> String {
    known
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}
