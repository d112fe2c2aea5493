//! The seed's asyncio `wget`, line for line, on our loop.
//!
//! ```python
//! async def wget(host):
//!     print('wget %s...' % host)
//!     reader, writer = await asyncio.open_connection(host, 80)
//!     header = 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host
//!     writer.write(header.encode('utf-8'))
//!     await writer.drain()
//!     while True:
//!         line = await reader.readline()
//!         if line == b'\r\n':
//!             break
//!         print('%s header > %s' % (host, line.decode('utf-8').rstrip()))
//!     writer.close()
//!
//! hosts = ['www.sina.com.cn', 'www.sohu.com', 'www.163.com']
//! asyncio.run(asyncio.wait([asyncio.ensure_future(wget(h)) for h in hosts]))
//! ```
//!
//! Run: `cargo run --example wget [HOST[:PORT] ...]`. Two deliberate fixes
//! to the seed: a connection that ends before the blank line stops the loop
//! (the seed spins on `b''` for ever), and a failure prints `HOST error > ...`
//! instead of a traceback.
use fetch_headers::io::open_connection;
use fetch_headers::runtime::{join_all, Runtime};

async fn wget(target: String) {
    println!("wget {target}...");
    let (host, port) = match target.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) => (host.to_owned(), port),
            Err(_) => return println!("{target} error > bad port '{port}'"),
        },
        None => (target.clone(), 80),
    };
    let (mut reader, writer) = match open_connection(&host, port).await {
        Ok(halves) => halves,
        Err(e) => return println!("{target} error > {e}"),
    };
    writer.write(format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes());
    if let Err(e) = writer.drain().await {
        return println!("{target} error > {e}");
    }
    loop {
        match reader.readline().await {
            Ok(line) if line == b"\r\n" || line == b"\n" || line.is_empty() => break,
            // Prefixed with the target as given (the seed's `host`, plus the
            // port when there is one), so two servers on one host stay apart.
            Ok(line) => println!(
                "{target} header > {}",
                String::from_utf8_lossy(&line).trim_end()
            ),
            Err(e) => return println!("{target} error > {e}"),
        }
    }
    writer.close();
}

fn main() -> std::io::Result<()> {
    let mut hosts: Vec<String> = std::env::args().skip(1).collect();
    if hosts.is_empty() {
        hosts = ["www.sina.com.cn", "www.sohu.com", "www.163.com"]
            .map(String::from)
            .to_vec();
    }
    let runtime = Runtime::new()?;
    runtime.block_on(join_all(hosts.into_iter().map(wget)));
    Ok(())
}
