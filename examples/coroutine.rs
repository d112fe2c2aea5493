//! The seed's producer/consumer demo: an `async` block driven like a Python
//! generator with `send` and `close`. Prints the same lines as
//! `python3 examples/python/coroutine.py`.

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
    if let Step::Yielded(first) = c.send(None)? {
        // Python prints the repr of the first yielded value: ''.
        println!("c.send(None) -> '{first}'");
    }
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
