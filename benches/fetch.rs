//! Placeholder until the fetch bench lands.
fn main() {}
