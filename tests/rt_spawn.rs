//! Spawning, joining, aborting and scheduling fairness.
mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{
    join_all, race, sleep, spawn, spawn_detached, yield_now, JoinError, Runtime,
};

#[test]
fn block_on_returns_the_output() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { 40 + 2 }), 42);
}

#[test]
fn spawned_task_output_reaches_its_handle() {
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(async { spawn(async { "done" }).await });
    assert_eq!(out, Ok("done"));
}

#[test]
fn ten_thousand_tasks_complete() {
    let rt = Runtime::new().unwrap();
    let started = Instant::now();
    let sum: u64 = rt.block_on(async {
        let handles: Vec<_> = (0..10_000u64).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    eprintln!("10,000 spawns and joins took {:?}", started.elapsed());
    assert_eq!(sum, (0..10_000u64).sum::<u64>());
    let stats = rt.stats();
    assert_eq!(stats.tasks_spawned, 10_000);
    assert_eq!(stats.tasks_completed, 10_000);
}

#[test]
fn join_all_keeps_argument_order_while_finishing_out_of_order() {
    let rt = Runtime::new().unwrap();
    let finished = Rc::new(RefCell::new(Vec::new()));
    let log = finished.clone();
    let results = rt.block_on(async move {
        let delays = [("a", 30), ("b", 10), ("c", 20)];
        join_all(delays.map(|(name, ms)| {
            let log = log.clone();
            async move {
                sleep(Duration::from_millis(ms)).await;
                log.borrow_mut().push(name);
                name
            }
        }))
        .await
    });
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results, ["a", "b", "c"]);
    assert_eq!(*finished.borrow(), ["b", "c", "a"]);
}

#[test]
fn race_returns_the_first_and_drops_the_rest() {
    let rt = Runtime::new().unwrap();
    let (index, value) = rt.block_on(race(vec![
        Box::pin(async {
            sleep(Duration::from_secs(10)).await;
            "slow"
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>,
        Box::pin(async {
            sleep(Duration::from_millis(5)).await;
            "fast"
        }),
    ]));
    assert_eq!((index, value), (1, "fast"));
    // The slow sleep was dropped, so its timer is gone.
    assert_eq!(rt.stats().timers_cancelled, 1);
}

#[test]
fn abort_cancels_and_runs_destructors() {
    struct Guard(Rc<RefCell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let rt = Runtime::new().unwrap();
    let dropped = Rc::new(RefCell::new(false));
    let flag = dropped.clone();
    let result = rt.block_on(async move {
        let handle = spawn(async move {
            let _guard = Guard(flag);
            sleep(Duration::from_secs(60)).await;
            "never"
        });
        yield_now().await; // let it start and arm its timer
        handle.abort();
        handle.await
    });
    assert_eq!(result, Err(JoinError::Cancelled));
    assert!(*dropped.borrow(), "the task's destructors ran");
    assert_eq!(rt.stats().timers_cancelled, 1, "its timer was removed");
}

#[test]
fn dropping_a_handle_detaches_the_task() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(RefCell::new(false));
    let flag = ran.clone();
    rt.block_on(async move {
        drop(spawn(async move {
            sleep(Duration::from_millis(5)).await;
            *flag.borrow_mut() = true;
        }));
        sleep(Duration::from_millis(30)).await;
    });
    assert!(*ran.borrow());
}

/// asyncio: with `await asyncio.sleep(0)` two tasks interleave A0 B0 A1 B1.
#[test]
fn yield_now_interleaves_like_sleep_zero() {
    let rt = Runtime::new().unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    let log = order.clone();
    rt.block_on(async move {
        let task = |name: &'static str, log: Rc<RefCell<Vec<String>>>| async move {
            for i in 0..3 {
                log.borrow_mut().push(format!("{name}{i}"));
                yield_now().await;
            }
        };
        let a = spawn(task("A", log.clone()));
        let b = spawn(task("B", log.clone()));
        let _ = (a.await, b.await);
    });
    assert_eq!(*order.borrow(), ["A0", "B0", "A1", "B1", "A2", "B2"]);
}

/// Checklist 7: a task that is always ready cannot starve a timer or another
/// task.
#[test]
fn always_ready_task_does_not_starve_others() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let spins = Rc::new(RefCell::new(0u64));
            let counter = spins.clone();
            let hog = spawn(async move {
                loop {
                    *counter.borrow_mut() += 1;
                    yield_now().await;
                }
            });
            // Both of these need the loop to reach the timers and other tasks.
            sleep(Duration::from_millis(20)).await;
            let other = spawn(async { 7 }).await;
            hog.abort();
            assert_eq!(other, Ok(7));
            assert!(*spins.borrow() > 10, "the hog ran too");
        });
    });
}

/// The `block_on` future gets a fresh I/O budget on every poll, as tasks
/// do. It used to inherit the last task's budget, so once that was spent
/// each of its polls yielded at once and it never ran again.
#[test]
fn block_on_future_keeps_running_past_its_io_budget() {
    let addr = support::serve(|mut stream| {
        let mut sink = [0u8; 1024];
        while matches!(std::io::Read::read(&mut stream, &mut sink), Ok(n) if n > 0) {}
    });
    let stats = support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let stream = TcpStream::connect(addr).await.unwrap();
            // One I/O operation per write, many times the budget, no tasks.
            for _ in 0..1000 {
                assert_eq!(stream.write(b"x").await.unwrap(), 1);
            }
        });
        rt.stats()
    });
    assert!(
        stats.budget_exhausted >= 1,
        "the budget ran out and was refilled"
    );
    assert_eq!(stats.bytes_written, 1000);
}

#[test]
fn tasks_left_running_are_dropped_with_the_runtime() {
    let dropped = Rc::new(RefCell::new(false));
    struct Guard(Rc<RefCell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    {
        let rt = Runtime::new().unwrap();
        let flag = dropped.clone();
        rt.block_on(async move {
            drop(spawn(async move {
                let _guard = Guard(flag);
                sleep(Duration::from_secs(60)).await;
            }));
            yield_now().await;
        });
        assert!(!*dropped.borrow(), "still running after block_on");
    }
    assert!(*dropped.borrow(), "dropped with the runtime");
}

/// A task aborted before its first poll still reports `Cancelled`, and what
/// its future captured is dropped. (The slot's guard must exist before the
/// task's `async` body first runs, or the handle would wait for ever.)
#[test]
fn abort_before_the_first_poll_is_reported() {
    let rt = Runtime::new().unwrap();
    let captured = Rc::new(());
    let held = captured.clone();
    let result = rt.block_on(async move {
        let handle = spawn(async move {
            let _held = held;
            "never"
        });
        handle.abort();
        handle.await
    });
    assert_eq!(result, Err(JoinError::Cancelled));
    assert_eq!(Rc::strong_count(&captured), 1, "the future was dropped");
    let stats = rt.stats();
    assert_eq!((stats.tasks_spawned, stats.tasks_polled), (1, 0));
    assert_eq!(stats.tasks_completed, 0);
}

/// A handle that outlives its runtime finds its unfinished task cancelled.
#[test]
fn a_task_dropped_with_its_runtime_reports_cancelled() {
    let mut kept = None;
    {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let handle = spawn(sleep(Duration::from_secs(60)));
            yield_now().await; // it has started and armed its timer
            kept = Some(handle);
        });
    }
    let handle = kept.unwrap();
    assert!(handle.is_finished());
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(handle), Err(JoinError::Cancelled));
}

#[test]
fn detached_tasks_run_to_completion() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(RefCell::new(Vec::new()));
    let log = ran.clone();
    rt.block_on(async move {
        for i in 0..3 {
            let log = log.clone();
            spawn_detached(async move {
                yield_now().await;
                log.borrow_mut().push(i);
            });
        }
        while log.borrow().len() < 3 {
            yield_now().await;
        }
    });
    assert_eq!(*ran.borrow(), [0, 1, 2], "run in spawn order");
    let stats = rt.stats();
    assert_eq!((stats.tasks_spawned, stats.tasks_completed), (3, 3));
    assert_eq!(stats.tasks_polled, 6, "two polls each: one yield");
}

/// A detached task still running when the runtime goes is dropped with
/// it, destructors and all, without a panic.
#[test]
fn detached_task_left_running_is_dropped_with_the_runtime() {
    let captured = Rc::new(());
    {
        let rt = Runtime::new().unwrap();
        let held = captured.clone();
        rt.block_on(async move {
            spawn_detached(async move {
                let _held = held;
                sleep(Duration::from_secs(60)).await;
            });
            yield_now().await;
        });
        assert_eq!(Rc::strong_count(&captured), 2, "still running");
    }
    assert_eq!(Rc::strong_count(&captured), 1, "dropped with the runtime");
}
