//! The scheduler: a main loop owning every step's [`State`], plain OS
//! threads for running steps, and job slots from a [`Tokens`] source (the
//! GNU make jobserver shared by forge and every `make` it starts). Ready
//! steps start longest-remaining-path first; on failure no new step starts,
//! running ones finish, and the rest are skipped.

use crate::error::Error;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

mod graph;
#[cfg(test)]
mod tests;
mod tokens;

pub use graph::{Graph, GraphError};
pub use tokens::{Deliver, Requests, Token, Tokens};

/// What the scheduler asks of the build.
pub trait Work: Sync {
    /// Called on the main thread once every dependency is done: `Ok(Some)`
    /// with the output digest when the step's key is cached.
    fn lookup(&self, step: usize, dep_outputs: &[String]) -> Result<Option<String>, Error>;
    /// Called on a worker thread holding a token: build the step.
    fn run(&self, step: usize, dep_outputs: &[String]) -> Result<String, Error>;
}

/// Where a step is. Steps not wanted in a build stay `Waiting`.
#[derive(Debug)]
pub enum State {
    /// A dependency is not done yet.
    Waiting,
    /// Every dependency is done; its key is being looked up.
    LookingUp,
    /// Not in the cache: waiting for a token.
    Ready,
    Running {
        since: Instant,
    },
    DoneCached {
        output: String,
    },
    DoneBuilt {
        output: String,
        seconds: f64,
    },
    /// `ran`: the step's run had started (its log is fresh), as opposed to
    /// a failure computing its key.
    Failed {
        error: Error,
        ran: bool,
    },
    /// Never started: a step failed first.
    Skipped,
}

impl State {
    /// The output digest of a done step.
    pub fn output(&self) -> Option<&str> {
        match self {
            State::DoneCached { output } | State::DoneBuilt { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// A step changed state, or time passed (for elapsed-time displays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Changed(usize),
    Tick,
}

/// How a build went.
#[derive(Debug)]
pub struct Outcome {
    /// Every step's final state.
    pub states: Vec<State>,
    /// Failures not tied to a step (the jobserver).
    pub errors: Vec<Error>,
}

impl Outcome {
    /// The output digest of every done step.
    pub fn outputs(&self) -> Vec<Option<String>> {
        self.states
            .iter()
            .map(|s| s.output().map(str::to_string))
            .collect()
    }

    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
            || self
                .states
                .iter()
                .any(|s| matches!(s, State::Failed { .. }))
    }
}

enum Msg {
    Token(std::io::Result<Token>),
    Done(usize, Result<String, Error>, Duration),
}

/// A ready step in the start queue: highest priority first, then lowest index.
struct Queued(f64, usize);

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued {}

const TICK: Duration = Duration::from_millis(250);

/// Run the `wanted` steps of `graph` (a set closed under dependencies) in
/// `priority` order. `on_event` sees every state change with all states.
/// An error is returned only when nothing ran (a bad `wanted` set, no
/// token source); failures of steps are in the outcome.
pub fn run(
    graph: &Graph,
    wanted: &BTreeSet<usize>,
    priority: &[f64],
    tokens: &dyn Tokens,
    work: &dyn Work,
    on_event: &mut dyn FnMut(Event, &[State]),
) -> Result<Outcome, Error> {
    let n = graph.len();
    for &s in wanted {
        if s >= n {
            return Err(Error::Other(format!("internal: step #{s} does not exist")));
        }
        if let Some(d) = graph.deps(s).iter().find(|d| !wanted.contains(d)) {
            return Err(Error::Other(format!(
                "internal: step #{s} is wanted but its dependency #{d} is not"
            )));
        }
    }
    let mut states: Vec<State> = (0..n).map(|_| State::Waiting).collect();
    let mut remaining: Vec<usize> = (0..n).map(|s| graph.deps(s).len()).collect();
    let mut lookups: VecDeque<usize> = wanted
        .iter()
        .copied()
        .filter(|s| remaining[*s] == 0)
        .collect();
    let mut ready: BinaryHeap<Queued> = BinaryHeap::new();
    let mut running = 0usize;
    let mut errors = Vec::new();
    let mut stopped = false;
    let mut tokens_wanted = 0usize;
    let prio = |s: usize| priority.get(s).copied().unwrap_or(0.0);
    let dep_outputs = |states: &[State], s: usize| -> Vec<String> {
        graph
            .deps(s)
            .iter()
            .filter_map(|d| states[*d].output().map(str::to_string))
            .collect()
    };
    // A done step: its dependents with nothing left to wait for get looked up.
    let release = |s: usize, remaining: &mut [usize], lookups: &mut VecDeque<usize>| {
        for &t in graph.dependents(s) {
            remaining[t] -= 1;
            if remaining[t] == 0 && wanted.contains(&t) {
                lookups.push_back(t);
            }
        }
    };

    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = unbounded();
    let token_tx = tx.clone();
    let requests = tokens
        .connect(Box::new(move |t| {
            let _ = token_tx.send(Msg::Token(t));
        }))
        .map_err(|e| Error::Other(format!("cannot start the jobserver helper: {e}")))?;
    let mut last_tick = Instant::now();

    std::thread::scope(|scope| {
        loop {
            // Every step whose dependencies are done: from the cache or queued.
            while !stopped && let Some(s) = lookups.pop_front() {
                states[s] = State::LookingUp;
                let deps_out = dep_outputs(&states, s);
                match work.lookup(s, &deps_out) {
                    Ok(Some(output)) => {
                        states[s] = State::DoneCached { output };
                        release(s, &mut remaining, &mut lookups);
                    }
                    Ok(None) => {
                        states[s] = State::Ready;
                        ready.push(Queued(prio(s), s));
                    }
                    Err(error) => {
                        states[s] = State::Failed { error, ran: false };
                        stopped = true;
                    }
                }
                on_event(Event::Changed(s), &states);
            }
            if !stopped {
                while tokens_wanted < ready.len() {
                    requests.request();
                    tokens_wanted += 1;
                }
            }
            if running == 0 && (ready.is_empty() || stopped) {
                break;
            }
            let msg = rx.recv_timeout(TICK.saturating_sub(last_tick.elapsed()));
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                on_event(Event::Tick, &states);
            }
            match msg {
                Ok(Msg::Token(Ok(token))) => {
                    tokens_wanted = tokens_wanted.saturating_sub(1);
                    if stopped {
                        continue;
                    }
                    let Some(Queued(_, s)) = ready.pop() else {
                        continue;
                    };
                    let deps_out = dep_outputs(&states, s);
                    let since = Instant::now();
                    states[s] = State::Running { since };
                    running += 1;
                    on_event(Event::Changed(s), &states);
                    let tx = tx.clone();
                    scope.spawn(move || {
                        let result = work.run(s, &deps_out);
                        // Reported before the slot is given back, so a
                        // failure is known before the slot could start
                        // another step.
                        let _ = tx.send(Msg::Done(s, result, since.elapsed()));
                        drop(token);
                    });
                }
                Ok(Msg::Token(Err(e))) => {
                    tokens_wanted = tokens_wanted.saturating_sub(1);
                    errors.push(Error::Other(format!("jobserver: {e}")));
                    stopped = true;
                }
                Ok(Msg::Done(s, result, took)) => {
                    running -= 1;
                    states[s] = match result {
                        Ok(output) => {
                            release(s, &mut remaining, &mut lookups);
                            State::DoneBuilt {
                                output,
                                seconds: took.as_secs_f64(),
                            }
                        }
                        Err(error) => {
                            stopped = true;
                            State::Failed { error, ran: true }
                        }
                    };
                    on_event(Event::Changed(s), &states);
                }
                Err(_) => {}
            }
        }
    });
    drop(requests);
    for &s in wanted {
        if matches!(
            states[s],
            State::Waiting | State::LookingUp | State::Ready | State::Running { .. }
        ) {
            states[s] = State::Skipped;
        }
    }
    Ok(Outcome { states, errors })
}
