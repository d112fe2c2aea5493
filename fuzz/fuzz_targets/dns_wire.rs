//! Fuzzes the DNS response parser: any bytes must give `Ok` or `Err`, never
//! a panic, a hang or unbounded memory, and whatever parses must be usable
//! (matching a question, following a CNAME chain) without a panic either.
#![no_main]

use fetch_headers::net::dns::wire::{parse_response, RecordType, MAX_NAME_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = parse_response(data) else {
        return;
    };
    // Memory is bounded by the input: a record takes at least 11 bytes.
    assert!(response.answers.len() <= data.len() / 11);
    for record in &response.answers {
        assert!(record.name.wire_len() <= MAX_NAME_LEN);
        let _ = record.name.to_string();
    }
    if let Some(question) = &response.question {
        assert!(question.name.wire_len() <= MAX_NAME_LEN);
        let _ = response.answers(response.header.id, question);
        for qtype in [RecordType::A, RecordType::Aaaa] {
            if let Ok(answer) = response.follow(&question.name, qtype, 8) {
                assert!(answer.addresses.len() <= response.answers.len());
            }
        }
    }
});
