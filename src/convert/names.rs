//! What progress output calls each op (`[builder 2/4] RUN make`), and small conversions between
//! the Dockerfile's notions and BuildKit's.

use crate::platform::Platform;
use crate::proto::pb;

pub fn pb_platform(p: &Platform) -> pb::Platform {
    pb::Platform {
        architecture: p.architecture.clone(),
        os: p.os.clone(),
        variant: p.variant.clone(),
        ..Default::default()
    }
}

/// Upper-cases the instruction keyword, leaving its arguments as written (`uppercaseCmd`).
pub fn uppercase_keyword(text: &str) -> String {
    let keyword = text.split_once(' ').map_or(text, |(keyword, _)| keyword);
    if !keyword.is_ascii() {
        return match text.split_once(' ') {
            Some((keyword, rest)) => format!("{} {rest}", keyword.to_uppercase()),
            None => text.to_uppercase(),
        };
    }
    let mut out = text.to_string();
    if let Some(head) = out.get_mut(..keyword.len()) {
        head.make_ascii_uppercase();
    }
    out
}

/// Numbers a stage's steps for progress names (`prefixCommand`).
#[derive(Debug, Clone, Default)]
pub struct StepCounter {
    /// Stage name shown in brackets; empty for a Dockerfile with a single stage.
    pub stage_name: String,
    pub total: usize,
    pub index: usize,
    /// True while an ONBUILD trigger is converted: its steps say so.
    pub onbuild: bool,
    /// In a multi-platform build, the platform before the stage name (`linux/amd64->arm64 `,
    /// see [`platform_label`]); empty otherwise.
    pub platform: String,
}

impl StepCounter {
    /// `[name i/n] text`, counting one more step; plain text for a stage without steps.
    /// `onbuild` (or the counter's own flag) marks a trigger's step.
    pub fn next(&mut self, text: &str, onbuild: bool) -> String {
        if self.total == 0 {
            return text.to_string();
        }
        self.index += 1;
        let width = decimal_digits(self.total);
        let mut out = String::with_capacity(self.stage_name.len() + 2 * width + 14 + text.len());
        out.push('[');
        out.push_str(&self.platform);
        if !self.stage_name.is_empty() {
            out.push_str(&self.stage_name);
            out.push(' ');
        }
        for _ in decimal_digits(self.index)..width {
            out.push(' ');
        }
        push_decimal(&mut out, self.index);
        out.push('/');
        push_decimal(&mut out, self.total);
        out.push_str("] ");
        if onbuild || self.onbuild {
            out.push_str("ONBUILD ");
        }
        out.push_str(text);
        out
    }
}

/// Appends `n` in decimal (what `{}` writes, without the formatting machinery).
fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// A heredoc's first line for a progress name, `...` when more follow (`summarizeHeredoc`).
pub fn summarize_heredoc(doc: &str) -> String {
    let doc = doc.trim().replace("\r\n", "\n");
    match doc.split_once('\n') {
        Some((first, _)) => format!("{first}..."),
        None => doc,
    }
}

/// A multi-platform build's step prefix: the stage's platform, then, when the step's
/// environment names a target of another architecture or OS (a stage that builds on the build
/// platform for the target), an arrow to it (`prefixCommand` with `formatTargetPlatform`).
pub fn platform_label(stage: &Platform, env: Option<&crate::llb::EnvList>) -> String {
    let arrow = env
        .and_then(target_from_env)
        .map(|target| target_arrow(stage, target))
        .unwrap_or_default();
    format!("{stage}{arrow} ")
}

/// The target the TARGET* variables of an environment describe (`platformFromEnv`): a
/// TARGETPLATFORM that parses wins; otherwise whichever of TARGETOS, TARGETARCH and TARGETVARIANT
/// are set, the rest left empty.
fn target_from_env(env: &crate::llb::EnvList) -> Option<Platform> {
    let mut parts = Platform::default();
    let mut set = false;
    for key in env.keys() {
        let value = env.get(key).unwrap_or_default().to_string();
        match key {
            "TARGETPLATFORM" => match Platform::parse(&value) {
                Ok(p) => return Some(p),
                Err(_) => continue,
            },
            "TARGETOS" => parts.os = value,
            "TARGETARCH" => parts.architecture = value,
            "TARGETVARIANT" => parts.variant = value,
            _ => continue,
        }
        set = true;
    }
    set.then_some(parts)
}

fn target_arrow(base: &Platform, mut target: Platform) -> String {
    if target.os.is_empty() {
        target.os = base.os.clone();
    }
    if target.architecture.is_empty() {
        target.architecture = base.architecture.clone();
    }
    let target = Platform::parse(&target.to_string()).unwrap_or(target);
    if target.os == base.os && target.architecture != base.architecture {
        let mut arch = target.architecture;
        if !target.variant.is_empty() {
            arch = format!("{arch}/{}", target.variant);
        }
        return format!("->{arch}");
    }
    if target.os != base.os {
        return format!("->{target}");
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_platform_steps_name_their_platform_and_target() {
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let mut env = crate::llb::EnvList::default();
        assert_eq!(platform_label(&amd64, None), "linux/amd64 ");
        env.add_or_replace("TARGETPLATFORM", "linux/arm/v7");
        assert_eq!(platform_label(&amd64, Some(&env)), "linux/amd64->arm/v7 ");
        env.add_or_replace("TARGETPLATFORM", "linux/amd64");
        assert_eq!(platform_label(&amd64, Some(&env)), "linux/amd64 ");
        let mut parts = crate::llb::EnvList::default();
        parts.add_or_replace("TARGETARCH", "arm64");
        assert_eq!(platform_label(&amd64, Some(&parts)), "linux/amd64->arm64 ");
        let mut c = StepCounter {
            total: 2,
            platform: platform_label(&amd64, Some(&parts)),
            stage_name: "tools".into(),
            ..Default::default()
        };
        assert_eq!(
            c.next("COPY a b", false),
            "[linux/amd64->arm64 tools 1/2] COPY a b"
        );
    }

    #[test]
    fn steps_are_numbered_with_padding() {
        let mut c = StepCounter {
            stage_name: "builder".into(),
            total: 12,
            index: 0,
            onbuild: false,
            platform: String::new(),
        };
        assert_eq!(c.next("RUN make", false), "[builder  1/12] RUN make");
        c.onbuild = true;
        assert_eq!(
            c.next("RUN make", false),
            "[builder  2/12] ONBUILD RUN make"
        );
        let mut single = StepCounter {
            total: 2,
            ..Default::default()
        };
        assert_eq!(single.next("COPY a b", true), "[1/2] ONBUILD COPY a b");
        assert_eq!(uppercase_keyword("run echo hi"), "RUN echo hi");
        assert_eq!(uppercase_keyword("copy"), "COPY");
        assert_eq!(uppercase_keyword("ſtopsignal x"), "STOPSIGNAL x");
        let mut wide = StepCounter {
            total: 100,
            index: 9,
            ..Default::default()
        };
        assert_eq!(wide.next("X", false), "[ 10/100] X");
        let mut big = StepCounter {
            total: usize::MAX,
            index: usize::MAX - 1,
            ..Default::default()
        };
        assert_eq!(big.next("X", false), format!("[{0}/{0}] X", usize::MAX));
        let mut one = StepCounter {
            total: 1,
            ..Default::default()
        };
        assert_eq!(one.next("X", false), "[1/1] X");
    }
}
