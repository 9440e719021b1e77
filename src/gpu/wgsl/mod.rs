//! Rewriting WGSL: the f16-storage version of any kernel (`f16`) and its execution-trace
//! version (`trace`), both derived from the kernel's current source, edited kernels included;
//! and the small text helpers they share.

mod f16;
mod trace;

pub use f16::f16_source;
pub use trace::{binding_name, trace_source};

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The index just past the bracket that closes the one at `open`.
fn matching_bracket(text: &str, open: usize) -> usize {
    matching(text, open, ('[', ']'))
}

/// The index just past the `pair.1` that closes the `pair.0` at `open`.
fn matching(text: &str, open: usize, pair: (char, char)) -> usize {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            c if c == pair.0 => depth += 1,
            c if c == pair.1 => {
                depth -= 1;
                if depth == 0 {
                    return open + i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The source without its `//` comments, line breaks kept: `y[r] = ...` in a formula is no
/// store to rewrite.
fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}
