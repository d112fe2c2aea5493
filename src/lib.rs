//! fetch-headers: a concurrent HTTP header fetcher on a hand-written event loop.
//!
//! The crate is a library with a thin binary on top. Layers, top to bottom
//! (see `docs/ARCHITECTURE.md`):
//!
//! - [`fetch`]: the job: targets in, one outcome per target out.
//! - [`http`]: request bytes and response-head parsing, with limits.
//! - [`io`]: `StreamReader` / `StreamWriter`, the asyncio streams stand-ins.
//! - [`net`]: nonblocking TCP and a DNS resolver on worker threads.
//! - [`runtime`]: the reactor, executor and timers: the event loop itself.
//!
//! Alongside the loop: [`files`] (Python's `open()`), [`buffers`]
//! (`StringIO` / `BytesIO`) and [`coroutine`] (generator-style `send`/`close`).

pub mod buffers;
pub mod coroutine;
pub mod fetch;
pub mod files;
pub mod http;
pub mod io;
pub mod net;
pub mod runtime;
pub mod tls;
