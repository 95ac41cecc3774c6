// Intentionally empty: the script makes the [build-dependencies] entry part of the host graph.
fn main() {}
