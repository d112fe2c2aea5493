//! Sleeps, deadlines and timeouts.
mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use fetch_headers::runtime::{join_all, sleep, sleep_until, spawn, timeout, Runtime};

#[test]
fn sleep_never_wakes_early() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(sleep(Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn sleep_until_a_past_deadline_is_ready_at_once() {
    let rt = Runtime::new().unwrap();
    rt.block_on(sleep_until(Instant::now() - Duration::from_secs(1)));
    assert_eq!(rt.stats().timers_set, 0, "no timer was armed");
}

#[test]
fn sleeps_fire_in_deadline_order() {
    let rt = Runtime::new().unwrap();
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = order.clone();
    rt.block_on(async move {
        let results = join_all([30u64, 10, 20].map(|ms| {
            let log = log.clone();
            async move {
                sleep(Duration::from_millis(ms)).await;
                log.borrow_mut().push(ms);
            }
        }))
        .await;
        assert!(results.iter().all(Result::is_ok));
    });
    assert_eq!(*order.borrow(), [10, 20, 30]);
}

#[test]
fn ten_thousand_concurrent_sleeps_complete() {
    let rt = Runtime::new().unwrap();
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let start = Instant::now();
    rt.block_on(async move {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                let count = count.clone();
                spawn(async move {
                    sleep(Duration::from_millis(1 + i % 20)).await;
                    count.set(count.get() + 1);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    eprintln!("10,000 sleeps took {:?}", start.elapsed());
    assert_eq!(fired.get(), 10_000);
    let stats = rt.stats();
    // A sleep whose deadline has passed by its first poll (the thread was
    // preempted for a millisecond, as happens on a loaded machine) completes
    // without a timer, so count only that every armed timer fired.
    assert!(
        stats.timers_set > 9_000,
        "{} timers armed",
        stats.timers_set
    );
    assert_eq!(stats.timers_fired, stats.timers_set);
}

#[test]
fn timeout_passes_through_a_fast_future() {
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(timeout(Duration::from_secs(5), async {
        sleep(Duration::from_millis(5)).await;
        "in time"
    }));
    assert_eq!(out, Ok("in time"));
    assert_eq!(
        rt.stats().timers_cancelled,
        1,
        "the expiry timer was removed"
    );
}

#[test]
fn timeout_drops_the_inner_future_on_expiry() {
    struct Guard(Rc<Cell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let rt = Runtime::new().unwrap();
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let start = Instant::now();
    let out = rt.block_on(async move {
        let inner = async move {
            let _guard = Guard(flag);
            sleep(Duration::from_secs(60)).await;
        };
        let out = timeout(Duration::from_millis(20), inner).await;
        (out, dropped.get())
    });
    assert!(out.0.is_err(), "expired");
    assert!(out.1, "inner future dropped before timeout returned");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn zero_timeout_still_lets_a_ready_future_win() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(timeout(Duration::ZERO, async { 1 })), Ok(1));
}
