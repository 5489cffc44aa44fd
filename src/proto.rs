//! BuildKit's wire types, generated at build time from `proto/`. The module tree mirrors the
//! protobuf packages because generated code names other packages by relative path.

#![allow(clippy::all, missing_docs)]

pub mod pb {
    tonic::include_proto!("pb");
}

pub mod google {
    pub mod protobuf {
        tonic::include_proto!("google.protobuf");
    }
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub mod fsutil {
    pub mod types {
        tonic::include_proto!("fsutil.types");
    }
}

pub mod moby {
    pub mod buildkit {
        pub mod v1 {
            pub mod apicaps {
                tonic::include_proto!("moby.buildkit.v1.apicaps");
            }
            pub mod types {
                tonic::include_proto!("moby.buildkit.v1.types");
            }
            pub mod frontend {
                tonic::include_proto!("moby.buildkit.v1.frontend");
            }
        }
    }
}
