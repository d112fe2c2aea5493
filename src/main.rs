//! The `fetch-headers` command: parses arguments and wires the layers.
fn main() {}
