//! Variable lookup for word expansion (the reference's `EnvGetter`, `EnvsFromSlice` and
//! `equal_env_*.go`).

use std::collections::BTreeMap;

/// Where expansion reads variables from.
pub trait EnvGetter {
    /// The value of `key`, `None` when unset (an empty value is set).
    fn get(&self, key: &str) -> Option<&str>;
    /// All keys, in definition order (lint rules suggest near misses from these).
    fn keys(&self) -> Vec<String>;
}

/// How variable names compare. BuildKit decides by the OS the frontend runs on: Linux
/// frontends (the reference image) are case-sensitive, Windows ones compare upper-cased keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyCase {
    #[default]
    Unix,
    Windows,
}

impl KeyCase {
    /// The key in the form used for comparison (`NormalizeEnvKey`).
    pub fn normalize(self, key: &str) -> String {
        match self {
            KeyCase::Unix => key.to_string(),
            KeyCase::Windows => key.chars().map(simple_upper).collect(),
        }
    }

    /// Whether two keys name the same variable (`EqualEnvKeys`).
    pub fn equal(self, a: &str, b: &str) -> bool {
        self.normalize(a) == self.normalize(b)
    }
}

/// Go's `unicode.ToUpper` is a one-to-one mapping: characters whose upper case is several
/// characters (`ß`) stay as they are.
fn simple_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// An ordered `KEY=VALUE` list; a later definition of a key wins (`EnvsFromSlice`).
#[derive(Debug, Clone, Default)]
pub struct EnvList {
    case: KeyCase,
    values: BTreeMap<String, String>,
    keys: Vec<String>,
}

impl EnvList {
    /// From `KEY=VALUE` strings; an entry without `=` defines the key with an empty value.
    pub fn from_kv_strings<S: AsRef<str>>(entries: &[S], case: KeyCase) -> Self {
        Self::from_pairs(
            entries.iter().map(|e| {
                let e = e.as_ref();
                e.split_once('=').unwrap_or((e, ""))
            }),
            case,
        )
    }

    /// From `(key, value)` pairs in definition order.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        case: KeyCase,
    ) -> Self {
        let mut list = EnvList {
            case,
            ..EnvList::default()
        };
        for (k, v) in pairs {
            list.push(k.as_ref(), v.as_ref());
        }
        list
    }

    /// Defines (or redefines) `key`.
    pub fn push(&mut self, key: &str, value: &str) {
        self.keys.push(key.to_string());
        self.values
            .insert(self.case.normalize(key), value.to_string());
    }
}

impl EnvGetter for EnvList {
    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(&self.case.normalize(key))
            .map(String::as_str)
    }

    fn keys(&self) -> Vec<String> {
        self.keys.clone()
    }
}

/// No variables at all (the parser splits words this way).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyEnv;

impl EnvGetter for EmptyEnv {
    fn get(&self, _key: &str) -> Option<&str> {
        None
    }

    fn keys(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Case-sensitive lookup; a later pair wins.
impl EnvGetter for Vec<(String, String)> {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<String> {
        self.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// Case-sensitive lookup; keys in sorted order.
impl EnvGetter for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }

    fn keys(&self) -> Vec<String> {
        BTreeMap::keys(self).cloned().collect()
    }
}
