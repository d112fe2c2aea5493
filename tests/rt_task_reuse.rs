//! A finished task's waker is reused for a later task only when nothing
//! else holds it, and a waker that outlived its task never wakes the task
//! that took over its slab slot, from the loop's thread or another one. A
//! finished detached task's box is reused too.
//! (Each test wakes a stale waker once: its `queued` flag, never cleared
//! since the task is gone, swallows any later wake.)
mod support;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use fetch_headers::runtime::{spawn, spawn_detached, stats, yield_now, Runtime};

/// The address a task's waker points to, read on its first poll (without
/// keeping a clone of the waker).
fn record_waker_address(address: &Rc<Cell<usize>>) -> impl std::future::Future<Output = ()> {
    let address = address.clone();
    poll_fn(move |cx| {
        address.set(cx.waker().data() as usize);
        Poll::Ready(())
    })
}

/// A future that counts its polls and never finishes; it keeps no waker, so
/// only a (wrong) wake meant for someone else can poll it again.
fn count_polls(polls: &Rc<Cell<u32>>) -> impl std::future::Future<Output = ()> {
    let polls = polls.clone();
    poll_fn(move |_| {
        polls.set(polls.get() + 1);
        Poll::Pending
    })
}

/// Lets the loop turn a few times, polling the reactor (and so taking the
/// wakes other threads sent) in between.
async fn turn_the_loop() {
    for _ in 0..4 {
        yield_now().await;
    }
}

#[test]
fn a_finished_tasks_waker_is_reused_when_nothing_holds_it() {
    let rt = Runtime::new().unwrap();
    let (first, second) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let (a, b) = (first.clone(), second.clone());
    rt.block_on(async move {
        spawn(record_waker_address(&a)).await.unwrap();
        // Blocks of a waker's size (40 bytes), so that a waker freed with
        // its task would be taken by one of these: then only reuse can give
        // the second task the first one's address. (Not zeroed: glibc's
        // calloc skips the cache of freed blocks that malloc reuses.)
        let crowd: Vec<Box<[u64; 5]>> = (0..64).map(|_| Box::new([1; 5])).collect();
        drop(spawn(record_waker_address(&b)));
        turn_the_loop().await;
        drop(crowd);
    });
    assert_ne!(first.get(), 0);
    assert_eq!(
        first.get(),
        second.get(),
        "the second task got the first's waker"
    );
}

#[test]
fn a_waker_held_past_its_task_is_not_reused_and_wakes_nothing() {
    let rt = Runtime::new().unwrap();
    let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
    let polls = Rc::new(Cell::new(0));
    let (first, second) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let (slot, counter, a, b) = (kept.clone(), polls.clone(), first.clone(), second.clone());
    rt.block_on(async move {
        // The first task keeps a clone of its waker where it outlives it.
        spawn(poll_fn(move |cx| {
            a.set(cx.waker().data() as usize);
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        }))
        .await
        .unwrap();
        // The next task takes over its slab slot, and must get a new waker.
        let task_counter = counter.clone();
        let waiting = spawn(async move {
            record_waker_address(&b).await;
            count_polls(&task_counter).await;
        });
        turn_the_loop().await;
        assert_eq!(counter.get(), 1, "polled once, then it waits");
        // The stale waker names the old task: its wake reaches the run
        // queue, but must not run the new task.
        let stale = kept.borrow_mut().take().unwrap();
        let before = stats().wakes_local;
        stale.wake_by_ref();
        assert_eq!(stats().wakes_local, before + 1, "the wake was queued");
        turn_the_loop().await;
        assert_eq!(
            counter.get(),
            1,
            "the stale wake did not reach the new task"
        );
        waiting.abort();
    });
    assert_ne!(first.get(), 0);
    assert_ne!(first.get(), second.get(), "a held waker is not reused");
}

/// A waker woken from another thread after its task finished (a DNS worker
/// answering a lookup nobody waits for any more) is harmless too, and the
/// loop does not block on it.
#[test]
fn a_remote_wake_for_a_finished_task_is_ignored() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        let polls = Rc::new(Cell::new(0));
        let counter = polls.clone();
        let stats = rt.block_on(async move {
            let waker = spawn(poll_fn(|cx| Poll::Ready(cx.waker().clone())))
                .await
                .unwrap();
            let waiting = spawn(count_polls(&counter));
            turn_the_loop().await;
            thread::spawn(move || waker.wake()).join().unwrap();
            turn_the_loop().await;
            waiting.abort();
            stats()
        });
        assert_eq!(polls.get(), 1);
        assert_eq!(stats.wakes_remote, 1);
    });
}

/// A detached task that ends leaves its emptied box for the next detached
/// task of the same type, once its future (and so every destructor in it)
/// has been dropped.
#[test]
fn a_finished_detached_tasks_box_is_reused_after_its_future_is_dropped() {
    fn size_in_box<F>(_: &F) -> usize {
        std::mem::size_of::<Option<F>>()
    }
    fn task(
        address: &Rc<Cell<usize>>,
        guard: Rc<()>,
    ) -> impl std::future::Future<Output = ()> + 'static {
        let address = address.clone();
        let payload = [7u64; 8];
        poll_fn(move |_| {
            let _held = &guard;
            address.set(&payload as *const _ as usize);
            Poll::Ready(())
        })
    }
    let rt = Runtime::new().unwrap();
    let (first, second) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let guard = Rc::new(());
    let (a, b, held) = (first.clone(), second.clone(), guard.clone());
    rt.block_on(async move {
        let one = task(&a, held.clone());
        let size = size_in_box(&one);
        spawn_detached(one);
        turn_the_loop().await;
        assert_eq!(Rc::strong_count(&held), 2, "the first future was dropped");
        // Blocks of the box's size, not zeroed, as above: a box freed with
        // its task would be taken by one of these.
        let crowd: Vec<Vec<u8>> = (0..64).map(|_| vec![1; size]).collect();
        spawn_detached(task(&b, held));
        turn_the_loop().await;
        drop(crowd);
    });
    assert_eq!(Rc::strong_count(&guard), 1, "both futures were dropped");
    assert_ne!(first.get(), 0);
    assert_eq!(
        first.get(),
        second.get(),
        "the second task ran in the first's box"
    );
}
