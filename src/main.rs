//! The `fetch-headers` command: parses arguments and hands them to the
//! command's layer in `cli/` (ripgrep's `main` is the model).
//!
//! Exit status: 0 when every target answered with a response head, 1 when
//! any target failed, 2 for a usage error or when the targets could not be
//! read or the results could not be written, 130 or 143 when SIGINT or SIGTERM stopped the run (see
//! `cli::run`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug in fetch-headers, never the user's or a server's
    // doing: say so in one line instead of a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        cli::stderr::line(format_args!(
            "fetch-headers: internal error (a bug; please report it): {info}"
        ));
    }));
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match cli::Args::parse_or_exit_code() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            cli::stderr::line(format_args!("fetch-headers: {e}"));
            ExitCode::from(2)
        }
    }
}
