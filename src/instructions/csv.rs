//! One CSV record as `go-csvvalue` reads `--mount`/`--device` values (Go `encoding/csv` rules,
//! no lazy quotes, no leading-space trimming), with its error text.

const BARE_QUOTE: &str = "bare \" in non-quoted-field";
const QUOTE: &str = "extraneous or missing \" in quoted-field";

fn parse_error(pos: usize, what: &str) -> String {
    format!("parse error on line 1, column {}: {what}", pos + 1)
}

/// Splits one CSV line into fields; an empty line is Go's `EOF` error.
pub fn csv_fields(input: &str) -> Result<Vec<String>, String> {
    let mut line = input;
    if let Some(rest) = line.strip_suffix('\n') {
        line = rest.strip_suffix('\r').unwrap_or(rest);
    }
    if line.is_empty() {
        return Err("EOF".to_string());
    }
    let mut fields: Vec<String> = Vec::new();
    let mut pos = 0usize;
    loop {
        if !line.starts_with('"') {
            let end = line.find(',');
            let field = &line[..end.unwrap_or(line.len())];
            if let Some(j) = field.find('"') {
                return Err(parse_error(pos + j, BARE_QUOTE));
            }
            fields.push(field.to_string());
            match end {
                Some(i) => {
                    line = &line[i + 1..];
                    pos += i + 1;
                    continue;
                }
                None => return Ok(fields),
            }
        }
        line = &line[1..];
        pos += 1;
        let mut field = String::new();
        loop {
            let Some(i) = line.find('"') else {
                return Err(parse_error(pos, QUOTE));
            };
            field.push_str(&line[..i]);
            line = &line[i + 1..];
            pos += i + 1;
            if line.starts_with('"') {
                field.push('"');
                line = &line[1..];
                pos += 1;
            } else if line.starts_with(',') {
                fields.push(std::mem::take(&mut field));
                line = &line[1..];
                pos += 1;
                break;
            } else if line.is_empty() {
                fields.push(field);
                return Ok(fields);
            } else {
                return Err(parse_error(pos - 1, QUOTE));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::csv_fields;

    #[test]
    fn records() {
        let ok = |s: &str| csv_fields(s).unwrap_or_default();
        assert_eq!(ok("a,b=c"), ["a", "b=c"]);
        assert_eq!(ok("a,"), ["a", ""]);
        assert_eq!(ok("\"x,y\",z"), ["x,y", "z"]);
        assert_eq!(ok("\"a\"\"b\""), ["a\"b"]);
        assert_eq!(ok("\"a\","), ["a", ""]);
        assert_eq!(csv_fields(""), Err("EOF".into()));
        assert_eq!(
            csv_fields("a=\"b\""),
            Err("parse error on line 1, column 3: bare \" in non-quoted-field".into())
        );
        assert_eq!(
            csv_fields("\"ab\"c"),
            Err("parse error on line 1, column 4: extraneous or missing \" in quoted-field".into())
        );
        assert_eq!(
            csv_fields("\"ab"),
            Err("parse error on line 1, column 2: extraneous or missing \" in quoted-field".into())
        );
    }
}
