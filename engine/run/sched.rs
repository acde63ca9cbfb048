//! The scheduler: a main loop owning the DAG state, plain OS threads for
//! running steps, one GNU make jobserver shared by forge and every `make`
//! it starts. Ready steps start longest-remaining-path first; on failure no
//! new step starts, running ones finish, and the failures are returned.

use crate::error::Error;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// What the scheduler asks of the build.
pub trait Work: Sync {
    /// Called on the main thread once every dependency is done: `Ok(Some)`
    /// with the output digest when the step's key is cached.
    fn lookup(&self, step: usize, dep_outputs: &[String]) -> Result<Option<String>, Error>;
    /// Called on a worker thread holding a jobserver token: build the step.
    fn run(&self, step: usize, dep_outputs: &[String]) -> Result<String, Error>;
}

/// What happened, for the progress display.
pub enum Event<'a> {
    Cached(usize),
    Started(usize),
    Finished(usize, Duration),
    Failed(usize, &'a Error),
    Tick(&'a [(usize, Instant)]),
}

enum Msg {
    Token(std::io::Result<jobserver::Acquired>),
    Done(usize, Result<String, Error>, Duration),
}

pub struct Outcome {
    /// Output digest of every step that finished.
    pub outputs: Vec<Option<String>>,
    pub failures: Vec<(usize, Error)>,
}

/// Run `steps` (indices into `deps`), deps given per step, in priority order.
pub fn run(
    deps: &[Vec<usize>],
    wanted: &BTreeSet<usize>,
    priority: &[f64],
    jobserver: &jobserver::Client,
    work: &dyn Work,
    on_event: &mut dyn FnMut(Event),
) -> Outcome {
    let n = deps.len();
    let mut outputs: Vec<Option<String>> = vec![None; n];
    let mut failures = Vec::new();
    let mut pending: BTreeSet<usize> = wanted.clone();
    let mut ready: Vec<usize> = Vec::new();
    let mut running: Vec<(usize, Instant)> = Vec::new();
    let mut tokens_wanted = 0usize;
    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = unbounded();
    let helper_tx = tx.clone();
    let helper = jobserver.clone().into_helper_thread(move |t| {
        let _ = helper_tx.send(Msg::Token(t));
    });
    let helper = match helper {
        Ok(h) => h,
        Err(e) => {
            failures.push((
                0,
                Error::Other(format!("cannot start the jobserver helper: {e}")),
            ));
            return Outcome { outputs, failures };
        }
    };

    std::thread::scope(|scope| {
        loop {
            // Resolve every step whose dependencies are done: cache or queue.
            loop {
                let now_ready: Vec<usize> = pending
                    .iter()
                    .copied()
                    .filter(|s| deps[*s].iter().all(|d| outputs[*d].is_some()))
                    .collect();
                if now_ready.is_empty() || !failures.is_empty() {
                    break;
                }
                for s in now_ready {
                    pending.remove(&s);
                    let dep_out: Vec<String> =
                        deps[s].iter().filter_map(|d| outputs[*d].clone()).collect();
                    match work.lookup(s, &dep_out) {
                        Ok(Some(out)) => {
                            outputs[s] = Some(out);
                            on_event(Event::Cached(s));
                        }
                        Ok(None) => ready.push(s),
                        Err(e) => {
                            on_event(Event::Failed(s, &e));
                            failures.push((s, e));
                        }
                    }
                }
            }
            if failures.is_empty() {
                while tokens_wanted < ready.len() {
                    helper.request_token();
                    tokens_wanted += 1;
                }
            }
            if running.is_empty() && (ready.is_empty() || !failures.is_empty()) {
                break;
            }
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(Msg::Token(Ok(token))) => {
                    tokens_wanted = tokens_wanted.saturating_sub(1);
                    if !failures.is_empty() || ready.is_empty() {
                        drop(token);
                        continue;
                    }
                    ready.sort_by(|a, b| priority[*a].total_cmp(&priority[*b]).then(b.cmp(a)));
                    let Some(s) = ready.pop() else { continue };
                    let dep_out: Vec<String> =
                        deps[s].iter().filter_map(|d| outputs[*d].clone()).collect();
                    running.push((s, Instant::now()));
                    on_event(Event::Started(s));
                    let tx = tx.clone();
                    scope.spawn(move || {
                        let start = Instant::now();
                        let result = work.run(s, &dep_out);
                        drop(token);
                        let _ = tx.send(Msg::Done(s, result, start.elapsed()));
                    });
                }
                Ok(Msg::Token(Err(e))) => {
                    tokens_wanted = tokens_wanted.saturating_sub(1);
                    failures.push((0, Error::Other(format!("jobserver: {e}"))));
                }
                Ok(Msg::Done(s, result, took)) => {
                    running.retain(|(r, _)| *r != s);
                    match result {
                        Ok(out) => {
                            outputs[s] = Some(out);
                            on_event(Event::Finished(s, took));
                        }
                        Err(e) => {
                            on_event(Event::Failed(s, &e));
                            failures.push((s, e));
                        }
                    }
                }
                Err(_) => on_event(Event::Tick(&running)),
            }
        }
    });
    drop(helper);
    Outcome { outputs, failures }
}

/// Longest remaining path from each step to the end of the build, weighted
/// by remembered durations (seconds; unknown steps count 1).
pub fn priorities(deps: &[Vec<usize>], duration: &dyn Fn(usize) -> f64) -> Vec<f64> {
    let n = deps.len();
    let mut dependents = vec![Vec::new(); n];
    for (s, ds) in deps.iter().enumerate() {
        for d in ds {
            dependents[*d].push(s);
        }
    }
    // Steps are in topological order, so walk backwards.
    let mut prio = vec![0.0; n];
    for s in (0..n).rev() {
        let tail = dependents[s].iter().map(|d| prio[*d]).fold(0.0, f64::max);
        prio[s] = duration(s) + tail;
    }
    prio
}
