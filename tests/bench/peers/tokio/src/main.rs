//! Tokio counterpart of corio's `select_tasks` and `select_tasks_spawned`
//! (tests/bench/select_task_workloads.cpp): a select over two short coroutine
//! operands, with the operands run inside the selecting task (Tokio's own model
//! for futures in `select!`) and with both operands spawned and the loser aborted
//! and awaited.
//!
//!     tokio_select_tasks [select_tasks] [select_tasks_spawned]
//!     WORKLOAD_SCALE=0.05 WORKLOAD_VERBOSE=1 tokio_select_tasks select_tasks
//!
//! The harness follows corio's (tests/bench/main.cpp): a fresh multi-thread
//! runtime with 2 workers per workload, each iteration a task spawned onto it
//! (`block_on` only awaits it), 1 warm-up + 5 measured iterations, and one JSON
//! line per workload on stdout for the median iteration, in the same format as
//! corio's. A failed check prints no line and makes the exit status 1.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Notify};

const WARMUP: usize = 1;
const MEASURED: usize = 5;

struct Sample {
    ops: u64,
    secs: f64,
}

type Outcome = Result<Sample, String>;

fn scaled(base: u64, scale: f64) -> u64 {
    let v = (base as f64 * scale).round();
    if v < 1.0 {
        1
    } else {
        v as u64
    }
}

/// The operand that wins: one trip through the run queue, then its value.
async fn short(i: u64) -> u64 {
    tokio::task::yield_now().await;
    i
}

/// The operand that always loses: waits on a channel that never gets a
/// message. Borrows the receiver; dropped by `select!` when `short` wins.
async fn idle(rx: &mut mpsc::Receiver<u64>) -> u64 {
    rx.recv().await.unwrap_or(0)
}

/// One task, n iterations of an unbiased `select!` over `short(i)` and
/// `idle(&mut rx)`, both polled inside this task.
async fn select_tasks(scale: f64) -> Outcome {
    let n = scaled(500_000, scale);
    let t0 = Instant::now();
    let (tx, mut rx) = mpsc::channel::<u64>(1); // tx kept: rx never closes
    let mut sum = 0u64;
    let mut short_wins = 0u64;
    for i in 0..n {
        tokio::select! {
            v = short(i) => {
                short_wins += 1;
                sum += v;
            }
            _ = idle(&mut rx) => {}
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    drop(tx);
    let want = n * (n - 1) / 2;
    if short_wins != n {
        return Err(format!("short won {short_wins} of {n} selects"));
    }
    if sum != want {
        return Err(format!("sum {sum} != {want}"));
    }
    Ok(Sample { ops: n, secs })
}

/// The spawned operand that always loses owns what it waits on: a share of a
/// Notify nobody notifies (corio's counterpart: a shared_ptr<sync::notify>).
async fn idle_owned(never: Arc<Notify>) -> u64 {
    never.notified().await;
    0
}

/// The same work with both operands spawned: per iteration two spawns, the
/// winner's join, and the loser aborted and awaited before the next iteration
/// (what corio's select does with a losing temporary join_handle).
async fn select_tasks_spawned(scale: f64) -> Outcome {
    let n = scaled(500_000, scale);
    let t0 = Instant::now();
    let never = Arc::new(Notify::new());
    let mut sum = 0u64;
    let mut short_wins = 0u64;
    let mut join_errors = 0u64;
    for i in 0..n {
        let mut a = tokio::spawn(short(i));
        let mut b = tokio::spawn(idle_owned(never.clone()));
        tokio::select! {
            r = &mut a => {
                b.abort();
                let _ = (&mut b).await;
                match r {
                    Ok(v) => {
                        short_wins += 1;
                        sum += v;
                    }
                    Err(_) => join_errors += 1,
                }
            }
            _ = &mut b => {
                a.abort();
                let _ = (&mut a).await;
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let want = n * (n - 1) / 2;
    if join_errors != 0 {
        return Err(format!("{join_errors} short tasks failed"));
    }
    if short_wins != n {
        return Err(format!("short won {short_wins} of {n} selects"));
    }
    if sum != want {
        return Err(format!("sum {sum} != {want}"));
    }
    // The losers were awaited: none may still hold the Notify.
    let holders = Arc::strong_count(&never) - 1;
    if holders != 0 {
        return Err(format!("{holders} idle tasks outlived their select"));
    }
    Ok(Sample { ops: n, secs })
}

fn json_line(name: &str, s: &Sample) -> String {
    format!(
        "{{\"impl\":\"tokio\",\"workload\":\"{}\",\"ops\":{},\"secs\":{:.6},\"ops_per_sec\":{:.1},\"extra\":{{}}}}",
        name,
        s.ops,
        s.secs,
        s.ops as f64 / s.secs
    )
}

fn run_workload(name: &str, scale: f64, verbose: bool) -> bool {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut samples = Vec::with_capacity(MEASURED);
    for iter in 0..WARMUP + MEASURED {
        // The iteration is a spawned task, a worker task like corio's.
        let outcome = rt.block_on(async move {
            let h = match name {
                "select_tasks" => tokio::spawn(select_tasks(scale)),
                _ => tokio::spawn(select_tasks_spawned(scale)),
            };
            h.await.unwrap_or_else(|e| Err(format!("workload task failed: {e}")))
        });
        match outcome {
            Ok(s) => {
                if verbose {
                    eprintln!("tokio: {name}: iteration {iter}: {:.6} s", s.secs);
                }
                if iter >= WARMUP {
                    samples.push(s);
                }
            }
            Err(e) => {
                eprintln!("tokio: {name}: CHECK FAILED (iteration {iter}): {e}");
                return false;
            }
        }
    }
    samples.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    println!("{}", json_line(name, &samples[MEASURED / 2]));
    true
}

fn main() {
    const KNOWN: [&str; 2] = ["select_tasks", "select_tasks_spawned"];
    let scale = match std::env::var("WORKLOAD_SCALE") {
        Ok(v) if !v.is_empty() => match v.parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => s,
            _ => {
                eprintln!("tokio: bad WORKLOAD_SCALE {v}");
                std::process::exit(2);
            }
        },
        _ => 1.0,
    };
    let verbose = matches!(std::env::var("WORKLOAD_VERBOSE"), Ok(v) if !v.is_empty() && v != "0");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let chosen: Vec<&str> = if args.is_empty() {
        KNOWN.to_vec()
    } else {
        let mut c = Vec::new();
        for a in &args {
            match KNOWN.iter().find(|k| **k == a.as_str()) {
                Some(k) => c.push(*k),
                None => {
                    eprintln!("tokio: unknown workload {a}; known: {}", KNOWN.join(" "));
                    std::process::exit(2);
                }
            }
        }
        c
    };
    let mut ok = true;
    for name in chosen {
        ok &= run_workload(name, scale, verbose);
    }
    std::process::exit(if ok { 0 } else { 1 });
}
