//! `mstage parse [--dump] FILE`: parse a Dockerfile and show BuildKit's AST dump.

use std::path::Path;

use crate::syntax;

/// Parses `path`. Success gives the text to print: the dump (with a final newline) when `dump` is
/// set, otherwise a one-line summary. Failure gives `FILE:LINE: message`.
pub fn run(path: &Path, dump: bool) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("{}: not valid UTF-8: {e}", path.display()))?;
    let df = syntax::parse(&text).map_err(|e| format!("{}:{}: {e}", path.display(), e.line))?;
    if dump {
        return Ok(syntax::dump(&df) + "\n");
    }
    Ok(format!(
        "{}: {} instruction(s), {} warning(s)\n",
        path.display(),
        df.nodes.len(),
        df.warnings.len()
    ))
}
