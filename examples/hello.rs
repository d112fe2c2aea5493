//! The seed's first coroutine, on our loop:
//!
//! ```python
//! async def hello():
//!     print("Hello world!")
//!     await asyncio.sleep(1)
//!     print("Hello again!")
//!
//! asyncio.run(hello())
//! ```
use std::time::Duration;

use fetch_headers::runtime::{sleep, Runtime};

fn main() -> std::io::Result<()> {
    let runtime = Runtime::new()?;
    runtime.block_on(async {
        println!("Hello world!");
        sleep(Duration::from_secs(1)).await;
        println!("Hello again!");
    });
    Ok(())
}
