//! Generates the BuildKit wire types from `proto/` with the protoc that the protoc-bin-vendored crate
//! ships, so building needs nothing installed. Every map is a BTreeMap: encoded bytes (and so op
//! digests) must not depend on hash order.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let files = [
        "proto/ops.proto",
        "proto/gateway.proto",
        "proto/caps.proto",
        "proto/worker.proto",
        "proto/stat.proto",
        "proto/status.proto",
        "proto/any.proto",
        "proto/timestamp.proto",
    ];
    tonic_prost_build::configure()
        .build_server(false)
        .btree_map(".")
        .compile_well_known_types(true)
        .compile_protos(&files, &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
