//! `runtime::channel`: the bounded queue between the loop and a plain
//! thread, in both directions, with the bound and the hang-ups.
mod support;

use std::thread;
use std::time::Duration;

use fetch_headers::runtime::channel;
use fetch_headers::runtime::Runtime;

const LIMIT: Duration = Duration::from_secs(30);
const ITEMS: u32 = 10_000;

#[test]
fn a_thread_feeds_the_loop_in_order_through_a_small_queue() {
    let received = support::with_deadline(LIMIT, || {
        let (tx, rx) = channel::channel::<u32>(4);
        let producer = thread::spawn(move || {
            for i in 0..ITEMS {
                tx.send_blocking(i).unwrap();
            }
        });
        let rt = Runtime::new().unwrap();
        let received = rt.block_on(async move {
            let mut received = Vec::new();
            while let Some(item) = rx.recv().await {
                received.push(item);
            }
            received
        });
        producer.join().unwrap();
        received
    });
    assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
}

#[test]
fn the_loop_feeds_a_thread_waiting_for_room_at_the_bound() {
    let received = support::with_deadline(LIMIT, || {
        let (tx, rx) = channel::channel::<u32>(4);
        let consumer = thread::spawn(move || {
            let mut received = Vec::new();
            while let Some(item) = rx.recv_blocking() {
                received.push(item);
            }
            received
        });
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            for i in 0..ITEMS {
                tx.room().await;
                tx.push(i).unwrap();
            }
        });
        consumer.join().unwrap()
    });
    assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
}

#[test]
fn either_end_hanging_up_ends_the_other() {
    support::with_deadline(LIMIT, || {
        let (tx, rx) = channel::channel::<u32>(1);
        drop(rx);
        assert_eq!(tx.push(1), Err(1), "push to a gone receiver");
        assert_eq!(tx.send_blocking(2), Err(2), "send to a gone receiver");
        let rt = Runtime::new().unwrap();
        // Room is "there" once nobody can receive, so a loop task never waits.
        rt.block_on(tx.room());

        let (tx, rx) = channel::channel::<u32>(1);
        tx.send_blocking(7).unwrap();
        drop(tx);
        assert_eq!(rt.block_on(rx.recv()), Some(7), "queued items survive");
        assert_eq!(rt.block_on(rx.recv()), None, "then the end");
    });
}
