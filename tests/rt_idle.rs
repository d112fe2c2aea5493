//! Checklist 8: an idle loop sleeps in epoll_wait instead of spinning.
mod support;

use std::time::{Duration, Instant};

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{timeout, Runtime};

/// CPU time (user + system) consumed so far by the calling thread.
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // Fields after the command name (which may hold spaces) start after ')'.
    let after = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

#[test]
fn loop_waiting_on_a_silent_server_uses_almost_no_cpu() {
    // A server that accepts and then says nothing until the client leaves.
    let addr = support::silent_server();
    support::with_deadline(Duration::from_secs(30), move || {
        let rt = Runtime::new().unwrap();
        let wall = Instant::now();
        let cpu = thread_cpu_time();
        let out = rt.block_on(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 16];
            timeout(Duration::from_millis(1500), stream.read(&mut buf)).await
        });
        let (cpu, wall) = (thread_cpu_time() - cpu, wall.elapsed());
        assert!(out.is_err(), "the read waited until the timeout");
        assert!(wall >= Duration::from_millis(1500));
        assert!(
            cpu <= Duration::from_millis(150),
            "loop used {cpu:?} of CPU in {wall:?} of waiting"
        );
        let stats = rt.stats();
        assert!(stats.turns < 50, "the loop spun: {} turns", stats.turns);
        assert!(
            stats.blocked >= Duration::from_millis(1400),
            "blocked only {:?}",
            stats.blocked
        );
    });
}
