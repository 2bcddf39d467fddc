fn main() {
    // protoc comes from the protoc-bin-vendored crate: nothing to install.
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("vendored protoc");
    // SAFETY: build scripts are single-threaded.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=../../proto/maas/rack/v1/rack.proto");
    tonic_prost_build::configure()
        .btree_map(".")
        .compile_protos(&["../../proto/maas/rack/v1/rack.proto"], &["../../proto"])
        .expect("compile rack.proto");
}
