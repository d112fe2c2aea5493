//! Fuzzes the target parser: any text a user (or a `-i` file) can give must
//! come back as a target or an error, never a panic, and a target that
//! parses must survive a round trip through its own `url()`: that URL is what
//! reports print, and what a user may paste back as a target.
#![no_main]

use fetch_headers::fetch::parse_target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(target) = parse_target(input) else {
        return;
    };
    let url = target.url();
    match parse_target(&url) {
        Ok(again) => assert_eq!(again, target, "{input:?} -> {url:?}"),
        Err(e) => panic!("{input:?} parsed, but its url {url:?} did not: {e}"),
    }
    // The Host header is sent on the wire: one line of visible ASCII.
    assert!(target.host_header().bytes().all(|b| b.is_ascii_graphic()));
});
