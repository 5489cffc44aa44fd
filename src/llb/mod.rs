//! mstage's LLB builder: immutable [`State`]s over an `Arc`'d op graph, marshalled into
//! BuildKit's `pb::Definition` byte-for-byte as client/llb would (same op bytes, same digests,
//! same order, same metadata and caps).
//!
//! ```
//! use mstage::llb::{self, Exec, MarshalOptions};
//! let base = llb::image("busybox");
//! let built = base.run(Exec::new(vec!["sh".into(), "-c".into(), "echo hi".into()])).root();
//! let def = llb::marshal(&built, &MarshalOptions::default()).unwrap();
//! assert_eq!(def.def.len(), 3); // image, exec, terminal
//! ```

pub mod base64;
pub mod caps;
mod constraints;
mod definition;
mod error;
mod exec;
mod file;
mod git;
pub mod giturl;
mod json;
mod marshal;
mod merge;
pub mod path;
mod reference;
mod source;
mod sourcemap;
mod state;
mod wire;

pub use constraints::{default_platform, normalize_platform, platform, Constraints, OpMetadata};
pub use definition::from_definition;
pub use error::LlbError;
pub use exec::{Exec, ExecState, Mount, MountKind, Secret, SshMount};
pub use file::{
    copy, mkdir, mkfile, rm, symlink, Chmod, Chown, CopyInput, CopyOptions, FileAction,
    MkdirOptions, MkfileOptions, RmOptions, SymlinkOptions, UserOpt,
};
pub use git::{git, git_with, GitOptions};
pub use json::definition_to_json_lines;
pub use marshal::{
    digest_of, head, marshal, read_definition, state_digest, write_definition, write_marshalled,
    MarshalOptions,
};
pub use merge::{diff, merge};
pub use reference::{familiar_name, normalize_image_ref};
pub use source::{
    http, http_with, image, image_with, local, local_with, oci_layout, source, DeferredPaths,
    DiffType, HttpOptions, ImageOptions, LocalOptions, ResolveMode,
};
pub use sourcemap::{line_range, SourceLocation, SourceMap};
pub use state::{scratch, EnvList, State};
