//! The seed's producer/consumer demo: an `async` block driven like a Python
//! generator with `send` and `close`. Prints exactly what the seed's program,
//! `examples/python/coroutine.py`, prints.

use fetch_headers::coroutine::{Coroutine, SendError, State, Step};

/// Python: `def consumer(): r = ''; while True: n = yield r; ...`
fn consumer() -> Coroutine<String, u32, ()> {
    Coroutine::new(|co| async move {
        let mut r = String::new();
        loop {
            // `n = yield r`; then `if not n: return` (here only None ends it).
            let Some(n) = co.yield_(r).await else { return };
            println!("[CONSUMER] Consuming {n}...");
            r = "200 OK".to_string();
        }
    })
}

/// Python: `def produce(c): ...`
fn produce(c: &mut Coroutine<String, u32, ()>) -> Result<(), SendError> {
    // `c.send(None)`: run the consumer to its first `yield` (its '' is
    // not printed).
    c.send(None)?;
    for n in 1..=5 {
        println!("[PRODUCER] Producing {n}...");
        let Step::Yielded(r) = c.send(Some(n))? else {
            break;
        };
        println!("[PRODUCER] Consumer return: {r}");
    }
    c.close();
    Ok(())
}

fn main() -> Result<(), SendError> {
    let mut c = consumer();
    produce(&mut c)?;
    assert_eq!(c.state(), State::Closed);
    Ok(())
}
