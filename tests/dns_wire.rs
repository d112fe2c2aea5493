//! The wire format: the exact bytes of a query, and a parser that survives
//! compression tricks, truncation at every byte and random input.

use std::net::{IpAddr, Ipv4Addr};

use fetch_headers::net::dns::wire::{
    encode_query, parse_response, ChainTooLong, Name, NameError, Question, Rcode, RecordData,
    RecordType, WireError, MAX_POINTER_JUMPS,
};

// A few hand-rolled builders, independent of the code under test.

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&flags.to_be_bytes());
    for count in counts {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

fn name(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in text.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn question(text: &str, qtype: u16) -> Vec<u8> {
    let mut out = name(text);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

fn rr(owner: &[u8], rtype: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut out = owner.to_vec();
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

/// The pointer to the question's name, which starts right after the header.
const TO_QNAME: [u8; 2] = [0xc0, 12];

fn q(text: &str, qtype: RecordType) -> Question {
    Question::new(Name::from_text(text).unwrap(), qtype)
}

/// A response to `www.example.com A` (ID 0x1234): a CNAME to
/// `web.example.com` (owner compressed), two A records for it (owner
/// compressed into the CNAME's data), one record of an unknown type, and
/// an OPT record.
fn sample() -> Vec<u8> {
    let mut msg = header(0x1234, 0x8180, [1, 4, 0, 1]);
    msg.extend(question("www.example.com", 1));
    // The CNAME's data is at offset 12 + 21 + 2 + 10 = 45: "web" then a
    // pointer to "example.com" inside the question (offset 16).
    msg.extend(rr(&TO_QNAME, 5, 1, 600, &[3, b'w', b'e', b'b', 0xc0, 16]));
    msg.extend(rr(&[0xc0, 45], 1, 1, 120, &[192, 0, 2, 1]));
    msg.extend(rr(&[0xc0, 45], 1, 1, 300, &[192, 0, 2, 2]));
    msg.extend(rr(&TO_QNAME, 99, 1, 300, b"skipped by its length"));
    msg.extend(rr(&[0], 41, 1232, 0, &[]));
    msg
}

#[test]
fn a_query_is_header_question_and_opt_byte_for_byte() {
    let bytes = encode_query(0xbeef, &q("www.Example.COM.", RecordType::Aaaa), true);
    let mut expected = vec![
        0xbe, 0xef, // ID
        0x01, 0x00, // RD
        0, 1, 0, 0, 0, 0, 0, 1, // one question, one additional
    ];
    expected.extend(question("www.example.com", 28));
    expected.extend([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]); // OPT, 1232
    assert_eq!(bytes, expected);

    let plain = encode_query(7, &q("a.b", RecordType::A), false);
    assert_eq!(&plain[10..12], &[0, 0], "no additional record without EDNS");
    assert_eq!(plain.len(), 12 + 5 + 4);
}

#[test]
fn compressed_answers_follow_the_cname_chain() {
    let response = parse_response(&sample()).unwrap();
    assert!(response.header.response);
    assert_eq!(response.header.id, 0x1234);
    assert_eq!(response.rcode, Rcode::NoError);
    assert_eq!(response.edns_payload, Some(1232));
    assert!(response.answers(0x1234, &q("WWW.example.com", RecordType::A)));
    assert_eq!(response.answers.len(), 3, "the unknown type is skipped");
    assert_eq!(
        response.answers[0].data,
        RecordData::Cname(Name::from_text("web.example.com").unwrap())
    );

    let answer = response
        .follow(
            &Name::from_text("www.example.com").unwrap(),
            RecordType::A,
            8,
        )
        .unwrap();
    assert_eq!(answer.canonical.to_string(), "web.example.com");
    assert_eq!(
        answer.addresses,
        vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))
        ]
    );
    assert_eq!(answer.ttl, 120, "the smallest TTL along the chain");

    let none = response
        .follow(
            &Name::from_text("www.example.com").unwrap(),
            RecordType::Aaaa,
            8,
        )
        .unwrap();
    assert!(none.addresses.is_empty());
    assert_eq!(
        response.follow(
            &Name::from_text("www.example.com").unwrap(),
            RecordType::A,
            0
        ),
        Err(ChainTooLong { limit: 0 })
    );
}

#[test]
fn a_response_must_match_id_flag_and_question() {
    let response = parse_response(&sample()).unwrap();
    let asked = q("www.example.com", RecordType::A);
    assert!(response.answers(0x1234, &asked));
    assert!(!response.answers(0x1235, &asked), "another ID");
    assert!(!response.answers(0x1234, &q("www.example.org", RecordType::A)));
    assert!(!response.answers(0x1234, &q("www.example.com", RecordType::Aaaa)));

    let mut query_flag = sample();
    query_flag[2] &= 0x7f; // QR clear: a query, not a response
    assert!(!parse_response(&query_flag).unwrap().answers(0x1234, &asked));
}

#[test]
fn a_cname_loop_ends_at_the_link_limit() {
    let mut msg = header(1, 0x8180, [1, 2, 0, 0]);
    msg.extend(question("a.test", 1));
    msg.extend(rr(&name("a.test"), 5, 1, 60, &name("b.test")));
    msg.extend(rr(&name("b.test"), 5, 1, 60, &name("a.test")));
    let response = parse_response(&msg).unwrap();
    assert_eq!(
        response.follow(&Name::from_text("a.test").unwrap(), RecordType::A, 8),
        Err(ChainTooLong { limit: 8 })
    );
}

#[test]
fn pointers_must_point_backwards() {
    // A pointer to itself, as the question's name.
    let mut msg = header(1, 0x8180, [1, 0, 0, 0]);
    msg.extend([0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(
        parse_response(&msg),
        Err(WireError::ForwardPointer { offset: 12 })
    );

    // A label, then a pointer back to that label: backwards, but a loop.
    let mut msg = header(1, 0x8180, [1, 0, 0, 0]);
    msg.extend([1, b'a', 0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(
        parse_response(&msg),
        Err(WireError::ForwardPointer { offset: 14 })
    );

    // A pointer past the end of the message.
    let mut msg = header(1, 0x8180, [1, 0, 0, 0]);
    msg.extend([0xff, 0xff]);
    assert!(parse_response(&msg).is_err());
}

#[test]
fn a_chain_of_pointers_is_cut_at_the_jump_limit() {
    // An unknown record whose data is a root label followed by pointers,
    // each to the one before; then an A record whose owner is the last.
    let jumps = MAX_POINTER_JUMPS + 1;
    let mut msg = header(1, 0x8180, [1, 2, 0, 0]);
    msg.extend(question("x.test", 1));
    let data_start = msg.len() + 2 + 10;
    let mut data = vec![0u8];
    for i in 0..jumps {
        let target = data_start + if i == 0 { 0 } else { 1 + 2 * (i - 1) };
        data.extend([0xc0 | (target >> 8) as u8, target as u8]);
    }
    msg.extend(rr(&TO_QNAME, 99, 1, 60, &data));
    let last = data_start + 1 + 2 * (jumps - 1);
    msg.extend(rr(
        &[0xc0 | (last >> 8) as u8, last as u8],
        1,
        1,
        60,
        &[1, 2, 3, 4],
    ));
    assert_eq!(parse_response(&msg), Err(WireError::TooManyPointers));
}

#[test]
fn a_name_grown_past_255_bytes_by_pointers_is_refused() {
    let long = "a".repeat(63);
    let three = format!("{long}.{long}.{long}");
    let mut msg = header(1, 0x8180, [1, 1, 0, 0]);
    msg.extend(question(&three, 1)); // 193 bytes: fine
                                     // One more 63-byte label (64 bytes) before the question's 193: 257.
    let mut owner = vec![63];
    owner.extend(long.as_bytes());
    owner.extend(TO_QNAME);
    msg.extend(rr(&owner, 1, 1, 60, &[1, 2, 3, 4]));
    assert_eq!(parse_response(&msg), Err(WireError::NameTooLong));
}

#[test]
fn reserved_label_types_and_bad_lengths_are_errors() {
    let mut msg = header(1, 0x8180, [1, 0, 0, 0]);
    msg.extend([0x41, b'a', 0, 0, 1, 0, 1]);
    assert_eq!(
        parse_response(&msg),
        Err(WireError::BadLabelType { offset: 12 })
    );

    let mut msg = header(1, 0x8180, [1, 1, 0, 0]);
    msg.extend(question("a.test", 1));
    let at = msg.len() + 2 + 10;
    msg.extend(rr(&TO_QNAME, 1, 1, 60, &[1, 2, 3, 4, 5]));
    assert_eq!(
        parse_response(&msg),
        Err(WireError::BadRecordData {
            rtype: RecordType::A,
            offset: at
        })
    );

    // A CNAME whose name runs past its own data length.
    let mut msg = header(1, 0x8180, [1, 1, 0, 0]);
    msg.extend(question("a.test", 1));
    let mut data = name("b.test");
    data.pop();
    let mut record = rr(&TO_QNAME, 5, 1, 60, &data);
    record.push(0);
    msg.extend(record);
    assert!(matches!(
        parse_response(&msg),
        Err(WireError::BadRecordData {
            rtype: RecordType::Cname,
            ..
        })
    ));

    let mut msg = header(1, 0x8180, [2, 0, 0, 0]);
    msg.extend(question("a.test", 1));
    msg.extend(question("a.test", 1));
    assert_eq!(parse_response(&msg), Err(WireError::QuestionCount(2)));
}

#[test]
fn soa_bounds_the_negative_ttl_and_opt_extends_the_rcode() {
    let mut msg = header(9, 0x8183, [1, 0, 1, 1]); // NXDOMAIN
    msg.extend(question("gone.test", 1));
    let mut soa = name("ns.test");
    soa.extend(name("root.test"));
    for field in [1u32, 2, 3, 4, 30] {
        soa.extend(field.to_be_bytes());
    }
    msg.extend(rr(&name("test"), 6, 1, 900, &soa));
    msg.extend(rr(&[0], 41, 4096, 0, &[]));
    let response = parse_response(&msg).unwrap();
    assert_eq!(response.rcode, Rcode::NxDomain);
    assert_eq!(response.negative_ttl, Some(30), "min(TTL, MINIMUM)");

    // Extended RCODE 1 in the OPT TTL's top byte, header RCODE 0: 16.
    let mut msg = header(9, 0x8180, [1, 0, 0, 1]);
    msg.extend(question("gone.test", 1));
    msg.extend(rr(&[0], 41, 512, 1 << 24, &[]));
    assert_eq!(parse_response(&msg).unwrap().rcode, Rcode::Other(16));

    let mut msg = header(9, 0x8180, [1, 0, 0, 2]);
    msg.extend(question("gone.test", 1));
    msg.extend(rr(&[0], 41, 512, 0, &[]));
    msg.extend(rr(&[0], 41, 512, 0, &[]));
    assert_eq!(parse_response(&msg), Err(WireError::DuplicateOpt));
}

#[test]
fn a_ttl_with_the_top_bit_set_reads_as_zero_and_other_classes_are_skipped() {
    let mut msg = header(3, 0x8180, [1, 2, 0, 0]);
    msg.extend(question("t.test", 1));
    msg.extend(rr(&TO_QNAME, 1, 1, 0x8000_0000, &[1, 1, 1, 1]));
    msg.extend(rr(&TO_QNAME, 1, 3, 60, &[2, 2, 2, 2])); // class CHAOS
    let response = parse_response(&msg).unwrap();
    assert_eq!(response.answers.len(), 1);
    assert_eq!(response.answers[0].ttl, 0);
}

#[test]
fn a_truncated_response_is_read_up_to_its_question() {
    let mut msg = header(5, 0x8380, [1, 3, 0, 0]); // TC set, counts lie
    msg.extend(question("big.test", 1));
    msg.extend([0xc0, 12, 0, 1]); // cut inside the first record
    let response = parse_response(&msg).unwrap();
    assert!(response.header.truncated);
    assert!(response.answers.is_empty());
    assert!(response.answers(5, &q("big.test", RecordType::A)));
}

#[test]
fn every_prefix_of_a_response_is_an_error_not_a_panic() {
    let msg = sample();
    for len in 0..msg.len() {
        assert!(
            parse_response(&msg[..len]).is_err(),
            "a prefix of {len} bytes parsed"
        );
    }
    assert!(parse_response(&msg).is_ok());
}

/// A small xorshift generator: deterministic, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_and_mutated_bytes_never_panic_and_stay_bounded() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let seed = sample();
    let mut parsed = 0;
    for round in 0..200_000 {
        let msg: Vec<u8> = if round % 2 == 0 {
            // Pure noise, of any length up to 600 bytes.
            let len = (rng.next() % 600) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            // The sample with a few bytes changed: gets far deeper.
            let mut msg = seed.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % msg.len();
                msg[at] = rng.next() as u8;
            }
            msg
        };
        if let Ok(response) = parse_response(&msg) {
            parsed += 1;
            assert!(response.answers.len() <= msg.len() / 11);
            for record in &response.answers {
                assert!(record.name.wire_len() <= 255);
                assert!(record.ttl <= i32::MAX as u32);
            }
        }
    }
    assert!(parsed > 1_000, "mutations of a valid message mostly parse");
}

#[test]
fn text_names_are_checked_and_displayed_safely() {
    assert_eq!(Name::from_text(""), Err(NameError::Empty));
    assert_eq!(Name::from_text("."), Err(NameError::Empty));
    assert_eq!(Name::from_text("a..b"), Err(NameError::EmptyLabel));
    assert_eq!(Name::from_text(".a"), Err(NameError::EmptyLabel));
    assert_eq!(
        Name::from_text(&"x".repeat(64)),
        Err(NameError::LabelTooLong)
    );
    let label = "y".repeat(63);
    let too_long = [label.as_str(); 4].join(".");
    assert_eq!(Name::from_text(&too_long), Err(NameError::TooLong));
    let fits = [
        label.as_str(),
        label.as_str(),
        label.as_str(),
        "z".repeat(61).as_str(),
    ]
    .join(".");
    assert_eq!(Name::from_text(&fits).unwrap().wire_len(), 255);
    assert_eq!(
        Name::from_text("Mixed.Case.").unwrap(),
        Name::from_text("mixed.case").unwrap()
    );

    // A label holding an escape byte and a dot, from the wire.
    let mut msg = header(1, 0x8180, [1, 0, 0, 0]);
    msg.extend([3, 0x1b, b'.', b'x', 0, 0, 1, 0, 1]);
    let question = parse_response(&msg).unwrap().question.unwrap();
    assert_eq!(question.name.to_string(), "\\027\\046x");
}
