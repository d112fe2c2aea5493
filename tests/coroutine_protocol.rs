//! The generator protocol of `docs/PYTHON-SEMANTICS.md` section 3, checked
//! item by item against `fetch_headers::coroutine`.
mod support;

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::rc::Rc;

use fetch_headers::coroutine::{Coroutine, SendError, State, Step};

/// Sets a flag when dropped: the Rust stand-in for a `finally:` block.
struct Finally(Rc<Cell<bool>>);

impl Drop for Finally {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Python: `def g(): n = yield ''; while n: n = yield n * 2; return 'done'`.
fn doubler() -> Coroutine<String, u32, &'static str> {
    Coroutine::new(|co| async move {
        let mut n: Option<u32> = co.yield_(String::new()).await;
        while let Some(v) = n {
            n = co.yield_((2 * v).to_string()).await;
        }
        "done"
    })
}

#[test]
fn new_coroutine_is_created_and_send_none_runs_to_first_yield() {
    let mut c = doubler();
    assert_eq!(c.state(), State::Created);
    assert_eq!(c.send(None), Ok(Step::Yielded(String::new())));
    assert_eq!(c.state(), State::Suspended);
}

#[test]
fn sending_a_value_to_a_just_started_coroutine_is_an_error_and_changes_nothing() {
    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    let mut c = Coroutine::<(), u32, ()>::new(|co| async move {
        flag.set(true);
        co.yield_(()).await;
    });

    let err = c.send(Some(1)).unwrap_err();
    assert_eq!(err, SendError::JustStarted);
    assert_eq!(
        err.to_string(),
        "can't send non-None value to a just-started generator"
    );
    assert_eq!(c.state(), State::Created);
    assert!(!ran.get(), "the body must not run");

    assert_eq!(c.send(None), Ok(Step::Yielded(())));
    assert!(ran.get());
}

#[test]
fn send_value_becomes_the_paused_yield_and_returns_the_next_yield() {
    let mut c = doubler();
    c.send(None).unwrap();
    assert_eq!(c.send(Some(21)), Ok(Step::Yielded("42".to_string())));
    assert_eq!(c.send(Some(5)), Ok(Step::Yielded("10".to_string())));
    assert_eq!(c.state(), State::Suspended);
}

#[test]
fn return_value_ends_the_coroutine_and_later_sends_fail() {
    let mut c = doubler();
    c.send(None).unwrap();
    assert_eq!(c.send(None), Ok(Step::Returned("done")));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.send(None), Err(SendError::Closed));
    assert_eq!(c.send(Some(1)), Err(SendError::Closed));
}

#[test]
fn bare_return_gives_unit() {
    let mut c = Coroutine::<(), (), ()>::new(|_co| async {});
    assert_eq!(c.send(None), Ok(Step::Returned(())));
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn close_drops_the_body_at_the_paused_yield_and_runs_finally() {
    let finally_ran = Rc::new(Cell::new(false));
    let after_yield = Rc::new(Cell::new(false));
    let (flag, after) = (Rc::clone(&finally_ran), Rc::clone(&after_yield));
    let mut c = Coroutine::<(), (), ()>::new(|co| async move {
        let _finally = Finally(flag);
        co.yield_(()).await;
        after.set(true);
    });
    c.send(None).unwrap();
    assert!(!finally_ran.get());

    c.close();
    assert!(finally_ran.get(), "Drop guards are the finally: blocks");
    assert!(!after_yield.get(), "nothing after the paused yield runs");
    assert_eq!(c.state(), State::Closed);

    c.close(); // a second close is a no-op
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.send(None), Err(SendError::Closed));
}

#[test]
fn closing_an_unstarted_coroutine_runs_nothing() {
    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    let mut c = Coroutine::<(), (), ()>::new(|co| async move {
        flag.set(true);
        co.yield_(()).await;
    });
    c.close();
    assert!(!ran.get());
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn dropping_a_suspended_coroutine_closes_it() {
    let finally_ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&finally_ran);
    let mut c = Coroutine::<(), (), ()>::new(|co| async move {
        let _finally = Finally(flag);
        co.yield_(()).await;
    });
    c.send(None).unwrap();
    drop(c);
    assert!(finally_ran.get());
}

#[test]
fn a_panic_propagates_out_of_send_and_leaves_the_coroutine_closed() {
    let finally_ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&finally_ran);
    let mut c = Coroutine::<(), bool, ()>::new(|co| async move {
        let _finally = Finally(flag);
        if co.yield_(()).await == Some(true) {
            panic!("boom");
        }
    });
    c.send(None).unwrap();

    let caught = panic::catch_unwind(AssertUnwindSafe(|| c.send(Some(true))));
    let payload = caught.expect_err("the panic must reach the caller of send");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert!(finally_ran.get());
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.send(None), Err(SendError::Closed));
}

#[test]
fn awaiting_a_pending_foreign_future_is_an_error_not_a_hang() {
    let finally_ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&finally_ran);
    let mut c = Coroutine::<(), (), ()>::new(|co| async move {
        let _finally = Finally(flag);
        co.yield_(()).await;
        std::future::pending::<()>().await;
    });
    c.send(None).unwrap();
    assert_eq!(c.send(None), Err(SendError::ForeignAwait));
    assert!(finally_ran.get(), "the stuck body is dropped");
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn awaiting_a_ready_foreign_future_is_fine() {
    let mut c = Coroutine::<u32, (), u32>::new(|co| async move {
        let x = std::future::ready(20).await;
        co.yield_(x).await;
        x + 1
    });
    assert_eq!(c.send(None), Ok(Step::Yielded(20)));
    assert_eq!(c.send(None), Ok(Step::Returned(21)));
}

/// Python's `ValueError: generator already executing` becomes a failed
/// `borrow_mut`: the body cannot reach its own coroutine while it runs.
#[test]
fn reentrant_send_is_refused_by_the_borrow() {
    type Gen = Coroutine<bool, (), ()>;
    let cell: Rc<RefCell<Option<Gen>>> = Rc::new(RefCell::new(None));
    let me = Rc::clone(&cell);
    let c = Coroutine::new(|co| async move {
        let could_reenter = me.try_borrow_mut().is_ok();
        co.yield_(could_reenter).await;
    });
    *cell.borrow_mut() = Some(c);

    let step = cell.borrow_mut().as_mut().map(|c| c.send(None));
    assert_eq!(step, Some(Ok(Step::Yielded(false))));
    cell.borrow_mut().take(); // break the Rc cycle
}

const PRODUCER_CONSUMER: &str = "\
[PRODUCER] Producing 1...
[CONSUMER] Consuming 1...
[PRODUCER] Consumer return: 200 OK
[PRODUCER] Producing 2...
[CONSUMER] Consuming 2...
[PRODUCER] Consumer return: 200 OK
[PRODUCER] Producing 3...
[CONSUMER] Consuming 3...
[PRODUCER] Consumer return: 200 OK
[PRODUCER] Producing 4...
[CONSUMER] Consuming 4...
[PRODUCER] Consumer return: 200 OK
[PRODUCER] Producing 5...
[CONSUMER] Consuming 5...
[PRODUCER] Consumer return: 200 OK
";

#[test]
fn producer_consumer_example_prints_the_python_output() {
    // The example as `cargo test` built it; running `cargo run` from a test
    // would wait on cargo's own build lock.
    let out = Command::new(support::example("coroutine"))
        .output()
        .expect("the coroutine example runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rust = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert_eq!(rust, PRODUCER_CONSUMER);

    // When python3 is installed, the seed's own program must agree.
    let python = Command::new("python3")
        .arg("examples/python/coroutine.py")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(python) = python {
        assert!(
            python.status.success(),
            "{}",
            String::from_utf8_lossy(&python.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&python.stdout), rust);
    }
}
