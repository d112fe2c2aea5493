//! Combinators over many futures: `gather`, "first completed", `sleep(0)`.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use super::join_handle::{JoinError, JoinHandle};

/// Runs every future concurrently as its own task and returns their outputs
/// in argument order: `asyncio.gather(*aws)`.
///
/// As in asyncio each future is wrapped in a task, so each is woken on its own
/// (no re-polling of the whole set), and an abort of one does not abort its
/// siblings. A task that was aborted gives `Err(JoinError::Cancelled)` in its
/// place.
pub async fn join_all<I, F>(futures: I) -> Vec<Result<F::Output, JoinError>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let handles: Vec<JoinHandle<F::Output>> = futures.into_iter().map(super::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await);
    }
    outputs
}

/// Polls the futures together and returns the index and output of the first
/// to finish; the others are dropped (cancelled). This is
/// `asyncio.wait(..., return_when=FIRST_COMPLETED)` followed by cancelling
/// the pending ones.
///
/// # Panics
/// If `futures` is empty (asyncio: "Set of Tasks/Futures is empty").
pub async fn race<F: Future>(futures: Vec<F>) -> (usize, F::Output) {
    assert!(!futures.is_empty(), "race() needs at least one future");
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    poll_fn(|cx| {
        for (index, future) in futures.iter_mut().enumerate() {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready((index, output));
            }
        }
        Poll::Pending
    })
    .await
}

/// Lets the loop go round once before continuing: poll for I/O, fire the
/// timers that are due, and run every other ready task. `await
/// asyncio.sleep(0)`.
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        // A wake from inside its own poll defers the task to the next
        // turn: after the reactor poll, behind every other ready task.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
