//! The request bytes, and refusal of fields that would break the framing.

use fetch_headers::http::{Method, Request, RequestError, Version, USER_AGENT};

#[test]
fn default_request_is_the_seeds_get_with_a_user_agent() {
    let bytes = Request::new(Method::Get, "www.sina.com.cn")
        .to_bytes()
        .unwrap();
    let expected = format!(
        "GET / HTTP/1.0\r\nHost: www.sina.com.cn\r\nUser-Agent: fetch-headers/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    assert_eq!(
        USER_AGENT,
        format!("fetch-headers/{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn head_over_http_1_1_asks_the_server_to_close() {
    let request = Request {
        path: "/index.html?q=1".to_string(),
        version: Version::Http11,
        headers: vec![("Accept".to_string(), "*/*".to_string())],
        ..Request::new(Method::Head, "example.com:8080")
    };
    let expected = format!(
        "HEAD /index.html?q=1 HTTP/1.1\r\n\
         Host: example.com:8080\r\n\
         User-Agent: {USER_AGENT}\r\n\
         Connection: close\r\n\
         Accept: */*\r\n\
         \r\n"
    );
    assert_eq!(
        String::from_utf8(request.to_bytes().unwrap()).unwrap(),
        expected
    );
}

#[test]
fn an_empty_user_agent_sends_none() {
    let request = Request {
        user_agent: String::new(),
        ..Request::new(Method::Get, "h")
    };
    assert_eq!(
        request.to_bytes().unwrap(),
        b"GET / HTTP/1.0\r\nHost: h\r\n\r\n"
    );
}

#[test]
fn extra_headers_keep_their_order_and_may_hold_non_ascii() {
    let request = Request {
        headers: vec![
            ("X-B".to_string(), "2".to_string()),
            ("X-A".to_string(), "caf\u{e9}\tok".to_string()),
        ],
        user_agent: String::new(),
        ..Request::new(Method::Get, "h")
    };
    let text = String::from_utf8(request.to_bytes().unwrap()).unwrap();
    assert!(text.ends_with("Host: h\r\nX-B: 2\r\nX-A: caf\u{e9}\tok\r\n\r\n"));
}

#[test]
fn crlf_injection_in_a_header_value_is_refused() {
    for value in ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
        let request = Request {
            headers: vec![("X-Test".to_string(), value.to_string())],
            ..Request::new(Method::Get, "h")
        };
        assert_eq!(
            request.to_bytes(),
            Err(RequestError::InvalidHeaderValue {
                name: "X-Test".to_string(),
                value: value.to_string(),
            })
        );
    }
    let request = Request {
        user_agent: "ua\r\nX: 1".to_string(),
        ..Request::new(Method::Get, "h")
    };
    let err = request.to_bytes().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value \"ua\\r\\nX: 1\" for header User-Agent: control characters are not allowed"
    );
}

#[test]
fn invalid_header_names_are_refused() {
    for name in ["", "X Test", "X:Test", "X\r\nY", "Ünï"] {
        let request = Request {
            headers: vec![(name.to_string(), "v".to_string())],
            ..Request::new(Method::Get, "h")
        };
        assert_eq!(
            request.to_bytes(),
            Err(RequestError::InvalidHeaderName(name.to_string()))
        );
    }
}

#[test]
fn crlf_or_spaces_in_the_host_or_path_are_refused() {
    for host in ["", "h\r\nX: 1", "a b", "h\u{e9}"] {
        let request = Request::new(Method::Get, host);
        assert_eq!(
            request.to_bytes(),
            Err(RequestError::InvalidHost(host.to_string()))
        );
    }
    for path in ["", "/a b", "/\r\nX: 1", "/caf\u{e9}"] {
        let request = Request {
            path: path.to_string(),
            ..Request::new(Method::Get, "h")
        };
        assert_eq!(
            request.to_bytes(),
            Err(RequestError::InvalidPath(path.to_string()))
        );
    }
    let err = Request {
        path: "/a b".to_string(),
        ..Request::new(Method::Get, "h")
    }
    .to_bytes()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request path \"/a b\": use visible ASCII only (percent-encode the rest)"
    );
}

#[test]
fn a_caller_field_named_like_a_built_in_one_takes_its_place() {
    let request = Request {
        version: Version::Http11,
        headers: vec![
            ("X-First".to_string(), "1".to_string()),
            ("HOST".to_string(), "other.example".to_string()),
            ("connection".to_string(), String::new()),
            ("Host".to_string(), "second".to_string()),
        ],
        ..Request::new(Method::Get, "h")
    };
    let expected = format!(
        "GET / HTTP/1.1\r\n\
         HOST: other.example\r\n\
         User-Agent: {USER_AGENT}\r\n\
         X-First: 1\r\n\
         Host: second\r\n\
         \r\n"
    );
    assert_eq!(
        String::from_utf8(request.to_bytes().unwrap()).unwrap(),
        expected,
        "the first Host replaces the built-in one in place, a second one \
         follows as asked, and an empty Connection removes the built-in one"
    );
}
