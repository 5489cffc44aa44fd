//! Per-op constraints (client/llb's `Constraints`): platform, worker filters, metadata that is
//! not part of the digest, and source-map locations.

use std::borrow::Cow;

use crate::proto::pb;

use super::sourcemap::{SourceLocation, SourceMap};
use super::wire;
use std::sync::Arc;

/// Metadata attached to an op by digest (`pb.OpMetadata`), outside the op bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpMetadata {
    pub ignore_cache: bool,
    pub description: Descriptions,
    /// `Some(true)` forces cache export, `Some(false)` disables it, `None` leaves the default.
    pub export_cache: Option<bool>,
    /// Caps are BuildKit's fixed names (`caps` module), so they are not copied per op.
    pub caps: SortedSet<&'static str>,
    /// Boxed: only `--link` copies have one, and every op carries the field.
    pub progress_group: Option<Box<pb::ProgressGroup>>,
    /// Cgroup limits of an exec (`WithLinuxResources`); boxed for the same reason.
    pub linux_resources: Option<Box<pb::LinuxResources>>,
}

impl OpMetadata {
    /// `mergeMetadata`: `other` wins where set; caps and descriptions accumulate.
    pub(crate) fn merge(&mut self, other: &OpMetadata) {
        self.ignore_cache |= other.ignore_cache;
        self.description.extend(&other.description);
        if other.export_cache.is_some() {
            self.export_cache = other.export_cache;
        }
        for &cap in other.caps.iter() {
            self.caps.insert(cap);
        }
        if other.progress_group.is_some() {
            self.progress_group = other.progress_group.clone();
        }
        if other.linux_resources.is_some() {
            self.linux_resources = other.linux_resources.clone();
        }
    }

    /// Records that the op needs `cap`.
    pub(crate) fn add_cap(&mut self, cap: &'static str) {
        self.caps.insert(cap);
    }

    /// Length of the `pb.OpMetadata` body [`Self::encode_body`] writes.
    pub(crate) fn body_len(&self) -> usize {
        let description: usize = self
            .description
            .iter()
            .map(|(k, v)| wire::delimited_len(2, wire::str_len(1, k) + wire::str_len(2, v)))
            .sum();
        let caps: usize = self
            .caps
            .iter()
            .map(|c| wire::delimited_len(5, wire::str_len(1, c) + wire::bool_len(2, true)))
            .sum();
        wire::bool_len(1, self.ignore_cache)
            + description
            + self
                .export_cache
                .map_or(0, |v| wire::delimited_len(4, wire::bool_len(1, v)))
            + caps
            + self
                .progress_group
                .as_ref()
                .map_or(0, |g| prost::encoding::message::encoded_len(6, &**g))
            + self
                .linux_resources
                .as_ref()
                .map_or(0, |r| prost::encoding::message::encoded_len(7, &**r))
    }

    /// The bytes prost writes for [`Self::into_pb`]'s message, without building it (the
    /// definition's metadata has an entry per op).
    pub(crate) fn encode_body(&self, buf: &mut Vec<u8>) {
        wire::put_bool(1, self.ignore_cache, buf);
        for (k, v) in self.description.iter() {
            wire::put_head(2, wire::str_len(1, k) + wire::str_len(2, v), buf);
            wire::put_str(1, k, buf);
            wire::put_str(2, v, buf);
        }
        if let Some(v) = self.export_cache {
            wire::put_head(4, wire::bool_len(1, v), buf);
            wire::put_bool(1, v, buf);
        }
        for cap in self.caps.iter() {
            wire::put_head(5, wire::str_len(1, cap) + wire::bool_len(2, true), buf);
            wire::put_str(1, cap, buf);
            wire::put_bool(2, true, buf);
        }
        if let Some(g) = &self.progress_group {
            prost::encoding::message::encode(6, &**g, buf);
        }
        if let Some(r) = &self.linux_resources {
            prost::encoding::message::encode(7, &**r, buf);
        }
    }

    /// Metadata BuildKit handed over with a definition (a frontend input's). Its caps are
    /// leaked into `'static` names: the frontend is one short process, and a definition names
    /// a handful of caps.
    pub(crate) fn from_pb(md: &pb::OpMetadata) -> OpMetadata {
        let mut out = OpMetadata {
            ignore_cache: md.ignore_cache,
            export_cache: md.export_cache.as_ref().map(|e| e.value),
            progress_group: md.progress_group.clone().map(Box::new),
            linux_resources: md.linux_resources.clone().map(Box::new),
            ..Default::default()
        };
        for (k, v) in &md.description {
            out.description.insert(k.clone(), v.clone());
        }
        for (cap, on) in &md.caps {
            if *on {
                out.caps.insert(super::caps::interned(cap));
            }
        }
        out
    }

    pub(crate) fn into_pb(self) -> pb::OpMetadata {
        pb::OpMetadata {
            ignore_cache: self.ignore_cache,
            description: self
                .description
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            export_cache: self.export_cache.map(|value| pb::ExportCache { value }),
            caps: self
                .caps
                .0
                .into_iter()
                .map(|c| (c.to_string(), true))
                .collect(),
            progress_group: self.progress_group.map(|g| *g),
            linux_resources: self.linux_resources.map(|r| *r),
        }
    }
}

/// An op's descriptions, sorted by key as pb's map is. Ops carry one or two, so a sorted Vec
/// (with the usual static keys borrowed) instead of a map's node allocation per op; shared, as
/// the marshal walk copies each op's metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Descriptions(Arc<Vec<(Cow<'static, str>, String)>>);

impl Descriptions {
    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: String) {
        let key = key.into();
        let entries = Arc::make_mut(&mut self.0);
        match entries.binary_search_by(|(k, _)| k.as_ref().cmp(key.as_ref())) {
            Ok(i) => entries[i].1 = value,
            Err(i) => entries.insert(i, (key, value)),
        }
    }

    /// `other`'s entries win over ours.
    pub fn extend(&mut self, other: &Descriptions) {
        if self.is_empty() {
            self.0 = Arc::clone(&other.0);
            return;
        }
        for (k, v) in other.0.iter() {
            self.insert(k.clone(), v.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }
}

/// A small ordered set without a tree node per instance.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedSet<T>(Vec<T>);

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet(Vec::new())
    }
}

impl<T: Ord> SortedSet<T> {
    pub fn insert(&mut self, value: T) {
        if let Err(i) = self.0.binary_search(&value) {
            self.0.insert(i, value);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

/// Options that shape one op (or, in [`super::MarshalOptions`], every op).
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// Shared: every op of a stage has the same platform, so it is not copied per op.
    pub platform: Option<Arc<pb::Platform>>,
    pub worker_constraints: Vec<String>,
    pub metadata: OpMetadata,
    pub source_locations: Vec<SourceLocation>,
    /// Id for `local.unique` on local sources without a session id.
    pub local_unique_id: Option<String>,
}

impl Constraints {
    pub fn new() -> Self {
        Self::default()
    }

    /// The op's platform (normalized as `platforms.Normalize` does).
    pub fn platform(mut self, p: pb::Platform) -> Self {
        self.platform = Some(Arc::new(normalize_platform(p)));
        self
    }

    /// `llb.Require`: worker filters.
    pub fn require(mut self, filter: impl Into<String>) -> Self {
        self.worker_constraints.push(filter.into());
        self
    }

    /// `llb.WithCustomName`: the `llb.customname` description progress output shows.
    pub fn custom_name(self, name: impl Into<String>) -> Self {
        self.description("llb.customname", name)
    }

    pub fn description(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.metadata.description.insert(key.into(), value.into());
        self
    }

    pub fn ignore_cache(mut self) -> Self {
        self.metadata.ignore_cache = true;
        self
    }

    pub fn export_cache(mut self, export: Option<bool>) -> Self {
        self.metadata.export_cache = export;
        self
    }

    pub fn progress_group(mut self, id: &str, name: &str, weak: bool) -> Self {
        self.metadata.progress_group = Some(Box::new(pb::ProgressGroup {
            id: id.to_string(),
            name: name.to_string(),
            weak,
        }));
        self
    }

    /// `WithLinuxResources`: cgroup limits for an exec, outside its digest.
    pub fn linux_resources(mut self, res: pb::LinuxResources) -> Self {
        self.metadata.linux_resources = Some(Box::new(res));
        self
    }

    /// `SourceMap.Location`: ties the op to ranges of a source file.
    pub fn location(mut self, source_map: &Arc<SourceMap>, ranges: Vec<pb::Range>) -> Self {
        self.source_locations.push(SourceLocation {
            source_map: Arc::clone(source_map),
            ranges,
        });
        self
    }

    pub fn local_unique_id(mut self, id: impl Into<String>) -> Self {
        self.local_unique_id = Some(id.into());
        self
    }

    pub(crate) fn add_cap(&mut self, cap: &'static str) {
        self.metadata.add_cap(cap);
    }
}

/// `platforms.Normalize`: lowercases and canonicalizes architecture/variant spellings.
pub fn normalize_platform(mut p: pb::Platform) -> pb::Platform {
    p.os = if p.os.is_empty() {
        std::env::consts::OS.to_string()
    } else {
        p.os.to_lowercase()
    };
    if p.os == "macos" {
        p.os = "darwin".to_string();
    }
    let arch = p.architecture.to_lowercase();
    let variant = p.variant.to_lowercase();
    let (arch, variant) = match arch.as_str() {
        "i386" => ("386".to_string(), String::new()),
        "x86_64" | "x86-64" | "amd64" => {
            let v = if variant == "v1" {
                String::new()
            } else {
                variant
            };
            ("amd64".to_string(), v)
        }
        "aarch64" | "arm64" => {
            let v = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".to_string(),
                _ => variant,
            };
            ("arm64".to_string(), v)
        }
        "armhf" => ("arm".to_string(), "v7".to_string()),
        "armel" => ("arm".to_string(), "v6".to_string()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".to_string(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".to_string(), v)
        }
        _ => (arch, variant),
    };
    p.architecture = arch;
    p.variant = variant;
    p
}

/// The platform BuildKit's client defaults to: the host's (`platforms.DefaultSpec`).
pub fn default_platform() -> pb::Platform {
    normalize_platform(pb::Platform {
        os: std::env::consts::OS.to_string(),
        architecture: std::env::consts::ARCH.to_string(),
        ..Default::default()
    })
}

/// `llb.Platform(...)` shorthand: `os/arch[/variant]` without validation.
pub fn platform(os: &str, arch: &str, variant: &str) -> pb::Platform {
    normalize_platform(pb::Platform {
        os: os.to_string(),
        architecture: arch.to_string(),
        variant: variant.to_string(),
        ..Default::default()
    })
}

/// `MarshalConstraints`: the op skeleton (platform, worker constraints) and its metadata, from
/// the marshal-wide `base` overridden by the op's own constraints.
pub(crate) fn marshal_constraints(
    base: &Constraints,
    own: &Constraints,
    own_platform: Option<&pb::Platform>,
) -> (pb::Op, OpMetadata) {
    let platform = own_platform
        .or(base.platform.as_deref())
        .cloned()
        .unwrap_or_else(default_platform);
    let mut filters = base.worker_constraints.clone();
    filters.extend(own.worker_constraints.iter().cloned());
    let mut md = base.metadata.clone();
    md.merge(&own.metadata);
    let op = pb::Op {
        platform: Some(platform),
        constraints: Some(pb::WorkerConstraints { filter: filters }),
        ..Default::default()
    };
    (op, md)
}
