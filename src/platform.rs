//! Platforms (`linux/amd64`, `linux/arm/v7`) as Dockerfiles and BuildKit write them.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\": unknown operating system or architecture: invalid argument")]
pub struct PlatformError(pub String);

impl Platform {
    /// The platform this binary runs on, which is the worker's when BuildKit says nothing.
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: normalize_arch(std::env::consts::ARCH).0.into(),
            variant: String::new(),
        }
    }

    /// The platform a build result is named after (`refs.platforms`, per-platform keys): the
    /// target asked for or, when none was, the platform this binary runs on, as the reference
    /// names it after its own `platforms.DefaultSpec()` whatever the worker built for. BuildKit
    /// checks an unasked-for result against its own default, which is this binary's: it pulls
    /// the frontend image for its own platform (an arm64-only worker on an amd64 host runs the
    /// amd64 frontend, whose result must then say linux/amd64, or buildx warns of a mismatch).
    pub fn of_result(target: Option<&Platform>) -> Platform {
        target.cloned().unwrap_or_else(Platform::host)
    }

    /// Parses `os[/arch[/variant]]` or a bare architecture, normalized as containerd does.
    pub fn parse(spec: &str) -> Result<Platform, PlatformError> {
        let lower = spec.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        let bad = || PlatformError(spec.to_string());
        if parts.iter().any(|p| p.is_empty()) || parts.len() > 3 {
            return Err(bad());
        }
        let (os, arch, variant) = match parts.as_slice() {
            [one] if is_known_os(one) => (one.to_string(), Platform::host().architecture, ""),
            [one] => ("linux".to_string(), one.to_string(), ""),
            [os, arch] => (os.to_string(), arch.to_string(), ""),
            [os, arch, variant] => (os.to_string(), arch.to_string(), *variant),
            _ => return Err(bad()),
        };
        if !is_known_os(&os) {
            return Err(bad());
        }
        let (arch, default_variant) = normalize_arch(&arch);
        let variant = match (arch, variant) {
            ("arm64", "v8") => "",
            (_, "") => default_variant,
            (_, v) => v,
        };
        Ok(Platform {
            os,
            architecture: arch.to_string(),
            variant: variant.to_string(),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

fn is_known_os(os: &str) -> bool {
    matches!(
        os,
        "linux"
            | "windows"
            | "darwin"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "solaris"
            | "illumos"
            | "android"
            | "ios"
            | "plan9"
            | "aix"
            | "dragonfly"
            | "js"
            | "wasip1"
    )
}

/// containerd's architecture aliases, and the variant each implies.
fn normalize_arch(arch: &str) -> (&str, &'static str) {
    match arch {
        "i386" => ("386", ""),
        "x86_64" | "x86-64" | "amd64" => ("amd64", ""),
        "aarch64" | "arm64" => ("arm64", ""),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => ("arm", "v7"),
        other => (other, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes_like_containerd() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm", "linux/arm/v7"),
            ("Linux/ARM/v6", "linux/arm/v6"),
            ("arm64", "linux/arm64"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Platform::parse(input).map(|p| p.to_string()),
                Ok(want.to_string()),
                "{input}"
            );
        }
        for bad in ["", "linux//amd64", "nosuchos/amd64", "a/b/c/d"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unasked_for_result_is_named_after_this_binary() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert_eq!(Platform::of_result(Some(&arm64)), arm64);
        assert_eq!(Platform::of_result(None), Platform::host());
        let own = if cfg!(target_arch = "aarch64") {
            "linux/arm64"
        } else {
            "linux/amd64"
        };
        assert_eq!(Platform::of_result(None).to_string(), own);
    }
}
