//! Bench sizes from `FH_BENCH_*` environment variables.
//!
//! `cargo bench` passes `--bench` to a bench binary; `cargo test --benches`
//! does not. Without it a bench is being smoke-run, so every size defaults
//! to its small smoke value, and a full run gets the real defaults.

/// True when the bench was started by `cargo bench` (with `--bench`).
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The number in the environment variable `name`, or the default for this
/// kind of run: `full_default` under `cargo bench`, `smoke_default`
/// otherwise. A value that is not a number is reported and ignored.
pub fn size(name: &str, full_default: usize, smoke_default: usize) -> usize {
    let default = if full_run() {
        full_default
    } else {
        smoke_default
    };
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("bench: {name}={v:?} is not a number, using {default}");
            default
        }),
        Err(_) => default,
    }
}
