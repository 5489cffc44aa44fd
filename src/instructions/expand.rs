//! Which words the converter expands, and when (BuildKit's `Expand`/`ExpandRaw` methods).
//! RUN mounts are expanded through `parse_mounts`; ARG is expanded by the converter itself
//! because the reference defers its errors.

use super::mount::Expander;
use super::simple::KeyValuePair;
use super::{ArgPair, Instruction, SourcesAndDest};

fn word(ex: Expander, w: &mut String) -> Result<(), String> {
    *w = ex(w)?;
    Ok(())
}

fn words(ex: Expander, ws: &mut [String]) -> Result<(), String> {
    ws.iter_mut().try_for_each(|w| word(ex, w))
}

fn pairs(ex: Expander, kvs: &mut [KeyValuePair]) -> Result<(), String> {
    kvs.iter_mut().try_for_each(|kv| {
        word(ex, &mut kv.key)?;
        word(ex, &mut kv.value)
    })
}

fn sources(ex: Expander, s: &mut SourcesAndDest) -> Result<(), String> {
    words(ex, &mut s.source_paths)?;
    word(ex, &mut s.dest_path)
}

/// Expands an ARG's names and defaults, for the converter's ARG handling.
pub fn expand_arg_pairs(ex: Expander, args: &mut [ArgPair]) -> Result<(), String> {
    args.iter_mut().try_for_each(|a| {
        word(ex, &mut a.key)?;
        match &mut a.value {
            Some(v) => word(ex, v),
            None => Ok(()),
        }
    })
}

impl Instruction {
    /// Expands the words the reference expands with the stage's environment before dispatch:
    /// ENV and LABEL pairs, ADD/COPY `--chown`/`--chmod` (ADD also `--checksum`), sources and
    /// destination, WORKDIR, USER, VOLUME and STOPSIGNAL. Other instructions are unchanged.
    pub fn expand_words(&mut self, ex: Expander) -> Result<(), String> {
        match self {
            Instruction::Env(i) => pairs(ex, &mut i.env),
            Instruction::Label(i) => pairs(ex, &mut i.labels),
            Instruction::Add(i) => {
                word(ex, &mut i.chown)?;
                word(ex, &mut i.chmod)?;
                word(ex, &mut i.checksum)?;
                sources(ex, &mut i.sources)
            }
            Instruction::Copy(i) => {
                word(ex, &mut i.chown)?;
                word(ex, &mut i.chmod)?;
                sources(ex, &mut i.sources)
            }
            Instruction::Workdir(i) => word(ex, &mut i.path),
            Instruction::User(i) => word(ex, &mut i.user),
            Instruction::Volume(i) => words(ex, &mut i.volumes),
            Instruction::Stopsignal(i) => word(ex, &mut i.signal),
            _ => Ok(()),
        }
    }

    /// Expands ADD/COPY heredoc bodies whose delimiter was unquoted (the reference's
    /// `ExpandRaw`, called with a quote-preserving expander).
    pub fn expand_raw(&mut self, ex: Expander) -> Result<(), String> {
        let s = match self {
            Instruction::Add(i) => &mut i.sources,
            Instruction::Copy(i) => &mut i.sources,
            _ => return Ok(()),
        };
        s.source_contents
            .iter_mut()
            .filter(|c| c.expand)
            .try_for_each(|c| word(ex, &mut c.data))
    }
}
