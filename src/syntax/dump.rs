//! BuildKit's `Node.Dump()`: the s-expression form of the parser test corpus.

use super::gostr::{quote, quote_list, to_lower, trim_space};
use super::node::Node;
use super::parser::Dockerfile;

/// The AST as BuildKit's `result.AST.Dump()` prints it: one `(keyword "arg" ...)` per line, with
/// no trailing newline (the corpus `result` files are this plus `\n`).
pub fn dump(df: &Dockerfile) -> String {
    let mut out = String::new();
    for node in &df.nodes {
        out.push('(');
        out.push_str(&dump_node(node));
        out.push_str(")\n");
    }
    trim_space(&out).to_string()
}

/// One instruction's `Dump()`.
pub fn dump_node(node: &Node) -> String {
    let mut out = to_lower(&node.keyword);
    if !node.flags.is_empty() {
        out.push(' ');
        out.push_str(&quote_list(&node.flags));
    }
    for arg in &node.args {
        out.push(' ');
        out.push_str(&quote(arg));
    }
    if let Some(nested) = &node.nested {
        out.push_str(" (");
        out.push_str(&dump_node(nested));
        out.push(')');
    }
    trim_space(&out).to_string()
}
