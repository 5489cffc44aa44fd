//! "did you mean ...?" hints, as BuildKit's `util/suggest` computes them (Levenshtein distance
//! below 3, closest wins).

/// The closest option to `value`, or None when none is close or `value` is itself an option.
pub fn search(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let val = if case_sensitive {
        value.to_string()
    } else {
        value.to_lowercase()
    };
    let mut best: Option<String> = None;
    let mut min = 3usize;
    for opt in options {
        let opt = if case_sensitive {
            opt.to_string()
        } else {
            opt.to_lowercase()
        };
        if val == opt {
            return None;
        }
        let dist = levenshtein(&val, &opt);
        if dist < min {
            min = dist;
            best = Some(if case_sensitive {
                opt
            } else {
                match_case(&opt, value)
            });
        }
    }
    best
}

/// `message` with the reference's suggestion suffix when one applies.
pub fn with_suggestion(
    message: String,
    value: &str,
    options: &[&str],
    case_sensitive: bool,
) -> String {
    match search(value, options, case_sensitive) {
        Some(m) => format!("{message} (did you mean {m}?)"),
        None => message,
    }
}

fn match_case(val: &str, orig: &str) -> String {
    if orig == orig.to_lowercase() {
        val.to_lowercase()
    } else if orig == orig.to_uppercase() {
        val.to_uppercase()
    } else {
        val.to_string()
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            search("mont", &["mount", "network"], true),
            Some("mount".into())
        );
        assert_eq!(
            search("FNTRYPOINT", &["ENTRYPOINT", "FROM"], false),
            Some("ENTRYPOINT".into())
        );
        assert_eq!(search("foo", &["FROM", "RUN"], false), Some("from".into()));
        assert_eq!(search("Fom", &["FROM"], false), Some("from".into()));
        assert_eq!(search("zzzzz", &["mount"], true), None);
        assert_eq!(search("mount", &["mount"], true), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
