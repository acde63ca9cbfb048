//! The scheduler over a fake build and a counting token source.

use super::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

/// A fixed number of slots; a request waits until one is given back.
struct FakeTokens {
    pool: Arc<Mutex<Pool>>,
}

struct Pool {
    free: usize,
    waiting: usize,
    in_use: usize,
    max_in_use: usize,
    deliver: Option<Arc<Deliver>>,
}

struct FakeToken(Arc<Mutex<Pool>>);

impl FakeTokens {
    fn new(slots: usize) -> FakeTokens {
        let pool = Pool {
            free: slots,
            waiting: 0,
            in_use: 0,
            max_in_use: 0,
            deliver: None,
        };
        FakeTokens {
            pool: Arc::new(Mutex::new(pool)),
        }
    }

    fn max_in_use(&self) -> usize {
        self.pool.lock().unwrap().max_in_use
    }
}

/// Hand a slot out of `pool` (locked) to its `deliver`.
fn hand_out(pool: &Arc<Mutex<Pool>>, p: &mut Pool) {
    p.in_use += 1;
    p.max_in_use = p.max_in_use.max(p.in_use);
    if let Some(d) = &p.deliver {
        d(Ok(Token::new(FakeToken(pool.clone()))));
    }
}

impl Drop for FakeToken {
    fn drop(&mut self) {
        let pool = self.0.clone();
        let mut p = pool.lock().unwrap();
        p.in_use -= 1;
        if p.waiting > 0 {
            p.waiting -= 1;
            hand_out(&pool, &mut p);
        } else {
            p.free += 1;
        }
    }
}

struct FakeRequests(Arc<Mutex<Pool>>);

impl Requests for FakeRequests {
    fn request(&self) {
        let mut p = self.0.lock().unwrap();
        if p.free > 0 {
            p.free -= 1;
            hand_out(&self.0, &mut p);
        } else {
            p.waiting += 1;
        }
    }
}

impl Tokens for FakeTokens {
    fn connect(&self, deliver: Deliver) -> std::io::Result<Box<dyn Requests>> {
        self.pool.lock().unwrap().deliver = Some(Arc::new(deliver));
        Ok(Box::new(FakeRequests(self.pool.clone())))
    }
}

/// A build whose steps sleep a little and output `out[step]`, keyed by
/// their dependencies' outputs, with an action cache.
#[derive(Default)]
struct FakeWork {
    out: Vec<String>,
    fail: Vec<usize>,
    /// Run these even when cached.
    force: Vec<usize>,
    sleep_ms: u64,
    cache: Mutex<HashMap<String, String>>,
    started: Mutex<Vec<usize>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

impl FakeWork {
    fn new(n: usize) -> FakeWork {
        FakeWork {
            out: (0..n).map(|s| format!("out{s}")).collect(),
            sleep_ms: 5,
            ..FakeWork::default()
        }
    }

    fn key(step: usize, dep_outputs: &[String]) -> String {
        format!("{step}:{}", dep_outputs.join(","))
    }

    fn started(&self) -> Vec<usize> {
        self.started.lock().unwrap().clone()
    }
}

impl Work for FakeWork {
    fn lookup(&self, step: usize, dep_outputs: &[String]) -> Result<Option<String>, Error> {
        if self.force.contains(&step) {
            return Ok(None);
        }
        let cache = self.cache.lock().unwrap();
        Ok(cache.get(&Self::key(step, dep_outputs)).cloned())
    }

    fn run(&self, step: usize, dep_outputs: &[String]) -> Result<String, Error> {
        self.started.lock().unwrap().push(step);
        if self.fail.contains(&step) {
            std::thread::sleep(Duration::from_millis(1));
            return Err(Error::Other(format!("step {step} broke")));
        }
        let now = self.running.fetch_add(1, AtomicOrdering::SeqCst) + 1;
        self.max_running.fetch_max(now, AtomicOrdering::SeqCst);
        std::thread::sleep(Duration::from_millis(self.sleep_ms));
        self.running.fetch_sub(1, AtomicOrdering::SeqCst);
        let out = self.out[step].clone();
        let mut cache = self.cache.lock().unwrap();
        cache.insert(Self::key(step, dep_outputs), out.clone());
        Ok(out)
    }
}

fn all(n: usize) -> BTreeSet<usize> {
    (0..n).collect()
}

fn go(deps: Vec<Vec<usize>>, slots: usize, work: &FakeWork) -> (Outcome, Vec<Event>) {
    let graph = Graph::new(deps).unwrap();
    let prio = graph.priorities(&|_| 1.0);
    let tokens = FakeTokens::new(slots);
    let mut events = Vec::new();
    let outcome = run(
        &graph,
        &all(graph.len()),
        &prio,
        &tokens,
        work,
        &mut |e, _| events.push(e),
    )
    .unwrap();
    assert!(tokens.max_in_use() <= slots);
    (outcome, events)
}

fn status(o: &Outcome) -> Vec<&'static str> {
    o.states
        .iter()
        .map(|s| match s {
            State::DoneBuilt { .. } => "built",
            State::DoneCached { .. } => "cached",
            State::Failed { .. } => "failed",
            State::Skipped => "skipped",
            _ => "other",
        })
        .collect()
}

#[test]
fn longest_remaining_path_starts_first() {
    // 0 heads a chain of three, 2 a chain of two, 1 stands alone. With one
    // slot, each start takes the highest priority among the ready steps,
    // the lowest index among equals: 0 (3), 2 (2), 3 (2, ready once 0 is
    // done), then 1, 4, 5 (1 each).
    let deps = vec![vec![], vec![], vec![], vec![0], vec![3], vec![2]];
    let work = FakeWork::new(deps.len());
    let (o, _) = go(deps, 1, &work);
    assert_eq!(status(&o), vec!["built"; 6]);
    // Priorities: 0→3, 3→2, 2→2, 1→1, 4→1, 5→1.
    assert_eq!(work.started(), vec![0, 2, 3, 1, 4, 5]);
}

#[test]
fn never_more_than_the_tokens() {
    let deps: Vec<Vec<usize>> = (0..24)
        .map(|s| if s < 12 { vec![] } else { vec![s - 12] })
        .collect();
    let work = FakeWork::new(deps.len());
    let (o, _) = go(deps, 3, &work);
    assert_eq!(status(&o), vec!["built"; 24]);
    let max = work.max_running.load(AtomicOrdering::SeqCst);
    assert!((2..=3).contains(&max), "{max} steps ran at once");
}

#[test]
fn a_failure_stops_new_starts_and_skips_the_rest() {
    // Two slots: 0 fails at once while 1 runs; 1 finishes, nothing else
    // starts.
    let deps = vec![vec![], vec![], vec![], vec![0], vec![1], vec![2]];
    let mut work = FakeWork::new(deps.len());
    work.fail = vec![0];
    work.sleep_ms = 30;
    let (o, events) = go(deps, 2, &work);
    let st = status(&o);
    assert_eq!(st[0], "failed");
    assert_eq!(st[1], "built", "the running step finishes");
    assert_eq!(&st[2..], ["skipped"; 4]);
    // Both start at once, on their own threads: either may record first.
    let mut started = work.started();
    started.sort_unstable();
    assert_eq!(started, vec![0, 1]);
    assert!(o.failed());
    assert!(events.contains(&Event::Changed(0)));
    let State::Failed { error, ran } = &o.states[0] else {
        panic!()
    };
    assert!(*ran);
    assert_eq!(error.to_string(), "step 0 broke");
}

#[test]
fn every_failure_is_kept() {
    let deps = vec![vec![], vec![], vec![0, 1]];
    let mut work = FakeWork::new(deps.len());
    work.fail = vec![0, 1];
    let (o, _) = go(deps, 2, &work);
    assert_eq!(status(&o), vec!["failed", "failed", "skipped"]);
}

#[test]
fn identical_output_cuts_off_dependents() {
    let deps = vec![vec![], vec![0], vec![1], vec![]];
    let mut work = FakeWork::new(deps.len());
    let (o, _) = go(deps.clone(), 2, &work);
    assert_eq!(status(&o), vec!["built"; 4]);
    // Step 0 runs again with the same output: its dependents are cached.
    work.started.lock().unwrap().clear();
    work.force = vec![0];
    let (o, _) = go(deps.clone(), 2, &work);
    assert_eq!(status(&o), vec!["built", "cached", "cached", "cached"]);
    assert_eq!(work.started(), vec![0]);
    // A different output rebuilds its dependents; step 1's output is the
    // same as before, so step 2 is cut off again.
    work.started.lock().unwrap().clear();
    work.out[0] = "changed".into();
    let (o, _) = go(deps, 2, &work);
    assert_eq!(status(&o), vec!["built", "built", "cached", "cached"]);
    assert_eq!(work.started(), vec![0, 1]);
}

#[test]
fn bad_graphs_are_refused_before_anything_runs() {
    let err = Graph::new(vec![vec![], vec![0, 7]]).unwrap_err();
    assert_eq!(err, GraphError::MissingDep { step: 1, dep: 7 });
    let err = Graph::new(vec![vec![], vec![3], vec![1], vec![2], vec![0]]).unwrap_err();
    assert_eq!(err, GraphError::Cycle(vec![1, 3, 2, 1]));
    assert_eq!(
        err.describe(|s| format!("s{s}")),
        "dependency cycle between steps: s1 -> s3 -> s2 -> s1"
    );
    assert!(matches!(
        Graph::new(vec![vec![0]]),
        Err(GraphError::Cycle(_))
    ));
    // A wanted set missing a dependency: refused, nothing looked up.
    let graph = Graph::new(vec![vec![], vec![0]]).unwrap();
    let work = FakeWork::new(2);
    let wanted: BTreeSet<usize> = [1].into();
    let err = run(
        &graph,
        &wanted,
        &[1.0, 1.0],
        &FakeTokens::new(1),
        &work,
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("dependency #0"), "{err}");
    assert!(work.started().is_empty());
}

#[test]
fn steps_not_wanted_are_left_alone() {
    let graph = Graph::new(vec![vec![], vec![0], vec![]]).unwrap();
    let work = FakeWork::new(3);
    let wanted: BTreeSet<usize> = [0, 1].into();
    let o = run(
        &graph,
        &wanted,
        &[2.0, 1.0, 1.0],
        &FakeTokens::new(2),
        &work,
        &mut |_, _| {},
    )
    .unwrap();
    assert!(matches!(o.states[2], State::Waiting));
    assert_eq!(o.outputs()[1].as_deref(), Some("out1"));
    assert_eq!(work.started(), vec![0, 1]);
}
