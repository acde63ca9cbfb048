//! The step graph as the scheduler sees it: dependencies and dependents by
//! index, checked before anything runs (no index out of range, no cycle),
//! and the longest-remaining-path priorities.

use std::collections::VecDeque;
use std::fmt;

/// A graph of steps that is known to be a DAG.
#[derive(Debug, Clone)]
pub struct Graph {
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    /// Every step after all of its dependencies.
    order: Vec<usize>,
}

/// Why a graph cannot be scheduled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// `step` depends on `dep`, which is not a step.
    MissingDep { step: usize, dep: usize },
    /// Steps that depend on each other, closed (`a b a`).
    Cycle(Vec<usize>),
}

impl GraphError {
    /// The error with step names instead of indices.
    pub fn describe(&self, name: impl Fn(usize) -> String) -> String {
        match self {
            GraphError::MissingDep { step, dep } => {
                format!(
                    "step {} depends on step #{dep}, which does not exist",
                    name(*step)
                )
            }
            GraphError::Cycle(c) => {
                let names: Vec<String> = c.iter().map(|s| name(*s)).collect();
                format!("dependency cycle between steps: {}", names.join(" -> "))
            }
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(|s| format!("#{s}")))
    }
}

impl Graph {
    /// Check `deps` (per step, the indices of the steps it reads).
    pub fn new(deps: Vec<Vec<usize>>) -> Result<Graph, GraphError> {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut remaining = vec![0usize; n];
        for (s, ds) in deps.iter().enumerate() {
            for &d in ds {
                if d >= n {
                    return Err(GraphError::MissingDep { step: s, dep: d });
                }
                dependents[d].push(s);
                remaining[s] += 1;
            }
        }
        // Kahn's algorithm; whatever is left over sits on or after a cycle.
        let mut queue: VecDeque<usize> = (0..n).filter(|s| remaining[*s] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(s) = queue.pop_front() {
            order.push(s);
            for &t in &dependents[s] {
                remaining[t] -= 1;
                if remaining[t] == 0 {
                    queue.push_back(t);
                }
            }
        }
        if order.len() < n {
            return Err(GraphError::Cycle(find_cycle(&deps, &remaining)));
        }
        Ok(Graph {
            deps,
            dependents,
            order,
        })
    }

    pub fn len(&self) -> usize {
        self.deps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }

    pub fn deps(&self, step: usize) -> &[usize] {
        &self.deps[step]
    }

    /// The steps reading `step`'s output (once per dependency entry).
    pub fn dependents(&self, step: usize) -> &[usize] {
        &self.dependents[step]
    }

    /// Longest remaining path from each step to the end of the build,
    /// weighted by `duration` (seconds).
    pub fn priorities(&self, duration: &dyn Fn(usize) -> f64) -> Vec<f64> {
        let mut prio = vec![0.0; self.len()];
        for &s in self.order.iter().rev() {
            let tail = self.dependents[s]
                .iter()
                .map(|d| prio[*d])
                .fold(0.0, f64::max);
            prio[s] = duration(s) + tail;
        }
        prio
    }
}

/// A cycle among the steps Kahn's algorithm left (`remaining > 0`): each
/// of them has a dependency also left, so walking those must repeat.
fn find_cycle(deps: &[Vec<usize>], remaining: &[usize]) -> Vec<usize> {
    let Some(start) = (0..deps.len()).find(|s| remaining[*s] > 0) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut on_path = vec![usize::MAX; deps.len()];
    on_path[start] = 0;
    let mut cur = start;
    while let Some(&next) = deps[cur].iter().find(|d| remaining[**d] > 0) {
        if on_path[next] != usize::MAX {
            let mut cycle = path[on_path[next]..].to_vec();
            cycle.push(next);
            return cycle;
        }
        on_path[next] = path.len();
        path.push(next);
        cur = next;
    }
    path
}
