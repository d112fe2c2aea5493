//! Placeholder until the runtime bench lands.
fn main() {}
