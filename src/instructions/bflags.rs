//! Instruction flags (`--name=value`), with the reference's BFlags rules and messages: boolean
//! flags take no value or `=true/false`, string flags need `=`, only list flags may repeat, and
//! a bare `--` ends flag processing.

use std::borrow::Cow;

use super::suggest::with_suggestion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    Bool,
    String,
    Strings,
}

#[derive(Debug, Clone)]
struct FlagDef {
    name: &'static str,
    kind: FlagKind,
    /// Borrowed for defaults and booleans, so declaring flags allocates nothing.
    value: Cow<'static, str>,
    values: Vec<String>,
    used: bool,
}

/// The flags an instruction accepts, filled in by `parse`.
#[derive(Debug, Clone, Default)]
pub struct BFlags {
    defs: Vec<FlagDef>,
    /// Names in the order first given (BuildKit's `Used()`).
    used_order: Vec<&'static str>,
}

impl BFlags {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, name: &'static str, kind: FlagKind, default: Cow<'static, str>) -> &mut Self {
        if self.defs.capacity() == 0 {
            // Instructions declare up to seven flags: one allocation for all of them.
            self.defs.reserve(7);
        }
        self.defs.push(FlagDef {
            name,
            kind,
            value: default,
            values: Vec::new(),
            used: false,
        });
        self
    }

    pub fn bool_flag(&mut self, name: &'static str, default: bool) -> &mut Self {
        let value = if default { "true" } else { "false" };
        self.add(name, FlagKind::Bool, Cow::Borrowed(value))
    }

    pub fn string_flag(&mut self, name: &'static str, default: &str) -> &mut Self {
        let value = if default.is_empty() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(default.to_string())
        };
        self.add(name, FlagKind::String, value)
    }

    pub fn strings_flag(&mut self, name: &'static str) -> &mut Self {
        self.add(name, FlagKind::Strings, Cow::Borrowed(""))
    }

    /// Reads `args` (each `--name[=value]`) against the declared flags.
    pub fn parse(&mut self, args: &[String]) -> Result<(), String> {
        for arg in args {
            if arg == "--" {
                return Ok(());
            }
            let Some(body) = arg.strip_prefix("--") else {
                return Err(format!("arg should start with -- : {arg}"));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(at) = self.defs.iter().position(|d| d.name == name) else {
                let names: Vec<&str> = self.defs.iter().map(|d| d.name).collect();
                let msg = format!("unknown flag: --{name}");
                return Err(with_suggestion(msg, name, &names, true));
            };
            let def = &mut self.defs[at];
            if def.used && def.kind != FlagKind::Strings {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            if !def.used {
                def.used = true;
                self.used_order.push(def.name);
            }
            set_value(def, value)?;
        }
        Ok(())
    }

    fn def(&self, name: &str) -> Option<&FlagDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// A string or bool flag's value (its default when not given).
    pub fn value(&self, name: &str) -> String {
        self.def(name)
            .map(|d| d.value.clone().into_owned())
            .unwrap_or_default()
    }

    pub fn is_true(&self, name: &str) -> bool {
        self.def(name).is_some_and(|d| d.value == "true")
    }

    /// Every value of a repeatable flag, in order.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.def(name).map(|d| d.values.clone()).unwrap_or_default()
    }

    pub fn is_used(&self, name: &str) -> bool {
        self.def(name).is_some_and(|d| d.used)
    }

    /// Names of the flags given, in first-use order.
    pub fn used(&self) -> Vec<String> {
        self.used_order.iter().map(|s| s.to_string()).collect()
    }
}

fn set_value(def: &mut FlagDef, value: Option<&str>) -> Result<(), String> {
    let flag_name = def.name;
    match def.kind {
        FlagKind::Bool => {
            if value == Some("") {
                return Err(format!("missing a value on flag: --{flag_name}"));
            }
            let v = value.unwrap_or("");
            match v.to_lowercase().as_str() {
                "true" | "" => def.value = Cow::Borrowed("true"),
                "false" => def.value = Cow::Borrowed("false"),
                _ => {
                    return Err(format!(
                        "expecting boolean value for flag --{flag_name}, not: {v}"
                    ))
                }
            }
        }
        FlagKind::String => {
            let Some(v) = value else {
                return Err(format!("missing a value on flag: --{flag_name}"));
            };
            def.value = Cow::Owned(v.to_string());
        }
        FlagKind::Strings => {
            let Some(v) = value else {
                return Err(format!("missing a value on flag: --{flag_name}"));
            };
            def.values.push(v.to_string());
        }
    }
    Ok(())
}
