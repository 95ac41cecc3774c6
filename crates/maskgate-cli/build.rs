// Nothing to build: the script exists so that the [build-dependencies] entry in Cargo.toml
// (feature alignment with the Python wheel's build, see there) takes part in the host graph.
fn main() {}
