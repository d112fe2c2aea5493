//! Checklist item 12: signals arrive as readiness on the loop. The handler
//! only writes a byte; the loop sleeps in `epoll_wait` until that byte's
//! event, and the task that awaits the signal runs on the loop.
//!
//! The signals are sent to this test process itself, so each test uses a
//! signal nothing else here uses.
mod support;

use std::thread;
use std::time::Duration;

use fetch_headers::runtime::{self, signal_name, Runtime, Signals};
use rustix::process::{getpid, kill_process, Signal};
use support::with_deadline;

/// Sends `signal` to this process from a plain thread. Whether it lands
/// before or after the loop parks, its byte is an event for the next poll.
fn send_from_a_thread(signal: Signal) {
    thread::spawn(move || kill_process(getpid(), signal).expect("kill(2)"));
}

#[test]
fn a_signal_wakes_the_sleeping_loop_through_the_reactor() {
    with_deadline(Duration::from_secs(30), || {
        let rt = Runtime::new().unwrap();
        let (signal, on_loop) = rt.block_on(async {
            let signals = Signals::new(&[libc::SIGUSR1]).unwrap();
            let loop_thread = thread::current().id();
            send_from_a_thread(Signal::USR1);
            let signal = signals.recv().await.unwrap();
            (signal, thread::current().id() == loop_thread)
        });
        assert_eq!(signal, libc::SIGUSR1);
        assert_eq!(signal_name(signal), Some("SIGUSR1"));
        assert!(on_loop, "the signal is handled on the loop's thread");
        let stats = rt.stats();
        assert!(stats.polls_blocking >= 1, "the loop slept: {stats:?}");
        assert!(stats.events >= 1, "the wake was a reactor event: {stats:?}");
        assert_eq!(stats.wakes_remote, 0, "no thread woke the loop: {stats:?}");
    });
}

#[test]
fn every_delivery_is_reported() {
    with_deadline(Duration::from_secs(30), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let signals = Signals::new(&[libc::SIGUSR2, libc::SIGURG]).unwrap();
            for signal in [Signal::USR2, Signal::URG, Signal::USR2] {
                send_from_a_thread(signal);
                assert_eq!(signals.recv().await.unwrap(), signal.as_raw());
            }
            // Nothing more is pending: a short wait for another signal
            // times out.
            let more = runtime::timeout(Duration::from_millis(50), signals.recv()).await;
            assert!(more.is_err(), "{more:?}");
        });
    });
}

#[test]
fn signals_that_must_keep_killing_are_refused() {
    for signal in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
        let error = Signals::new(&[signal]).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{signal}");
    }
}
