//! Instruction flags (`--name=value`), with the reference's BFlags rules and messages: boolean
//! flags take no value or `=true/false`, string flags need `=`, only list flags may repeat, and
//! a bare `--` ends flag processing.

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
    value: String,
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

    fn add(&mut self, name: &'static str, kind: FlagKind, default: &str) -> &mut Self {
        self.defs.push(FlagDef {
            name,
            kind,
            value: default.to_string(),
            values: Vec::new(),
            used: false,
        });
        self
    }

    pub fn bool_flag(&mut self, name: &'static str, default: bool) -> &mut Self {
        self.add(name, FlagKind::Bool, if default { "true" } else { "false" })
    }

    pub fn string_flag(&mut self, name: &'static str, default: &str) -> &mut Self {
        self.add(name, FlagKind::String, default)
    }

    pub fn strings_flag(&mut self, name: &'static str) -> &mut Self {
        self.add(name, FlagKind::Strings, "")
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
            let flag_name = format!("--{name}");
            let names: Vec<&str> = self.defs.iter().map(|d| d.name).collect();
            let Some(def) = self.defs.iter_mut().find(|d| d.name == name) else {
                let msg = format!("unknown flag: {flag_name}");
                return Err(with_suggestion(msg, name, &names, true));
            };
            if def.used && def.kind != FlagKind::Strings {
                return Err(format!("duplicate flag specified: {flag_name}"));
            }
            if !def.used {
                def.used = true;
                self.used_order.push(def.name);
            }
            set_value(def, &flag_name, value)?;
        }
        Ok(())
    }

    fn def(&self, name: &str) -> Option<&FlagDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// A string or bool flag's value (its default when not given).
    pub fn value(&self, name: &str) -> String {
        self.def(name).map(|d| d.value.clone()).unwrap_or_default()
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

fn set_value(def: &mut FlagDef, flag_name: &str, value: Option<&str>) -> Result<(), String> {
    match def.kind {
        FlagKind::Bool => {
            if value == Some("") {
                return Err(format!("missing a value on flag: {flag_name}"));
            }
            let v = value.unwrap_or("");
            match v.to_lowercase().as_str() {
                "true" | "" => def.value = "true".into(),
                "false" => def.value = "false".into(),
                _ => {
                    return Err(format!(
                        "expecting boolean value for flag {flag_name}, not: {v}"
                    ))
                }
            }
        }
        FlagKind::String => {
            let Some(v) = value else {
                return Err(format!("missing a value on flag: {flag_name}"));
            };
            def.value = v.to_string();
        }
        FlagKind::Strings => {
            let Some(v) = value else {
                return Err(format!("missing a value on flag: {flag_name}"));
            };
            def.values.push(v.to_string());
        }
    }
    Ok(())
}
