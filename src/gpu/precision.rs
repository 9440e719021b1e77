//! f16 storage: the graph's float tensors (weights and activations) held as 16-bit floats, half
//! the bytes to move, with every kernel still computing in f32. The f16 kernels are not written
//! twice: each is derived from its f32 source by [`f16_source`], which stores the f32 storage
//! arrays as f16, widens every load and narrows every store. Needs the adapter's SHADER_F16.

/// How the float tensors of a graph are stored on the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    #[default]
    F32,
    F16,
}

impl Precision {
    /// Bytes per float element.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    pub fn parse(text: &str) -> Result<Precision, String> {
        match text {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            other => Err(format!("--precision {other:?}: expected f32 or f16")),
        }
    }
}

/// The names of a kernel's `var<storage, ...> NAME: array<f32>` bindings.
fn f32_arrays(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.contains("var<storage") && l.contains(": array<f32>"))
        .filter_map(|l| {
            let after = &l[l.find('>')? + 1..];
            Some(after[..after.find(':')?].trim().to_string())
        })
        .collect()
}

pub(super) fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The index just past the bracket that closes the one at `open`.
pub(super) fn matching_bracket(text: &str, open: usize) -> usize {
    matching(text, open, ('[', ']'))
}

/// The index just past the `pair.1` that closes the `pair.0` at `open`.
pub(super) fn matching(text: &str, open: usize, pair: (char, char)) -> usize {
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

/// Wraps loads of `arrays` in f32(...) and the values stored into them in f16(...).
fn rewrite(text: &str, arrays: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    while i < text.len() {
        let found = arrays.iter().find(|name| {
            text[i..].starts_with(name.as_str())
                && text[i + name.len()..].starts_with('[')
                && !text[..i].ends_with(is_ident)
        });
        let Some(name) = found else {
            let c = text[i..].chars().next().expect("inside the text");
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        let open = i + name.len();
        let close = matching_bracket(text, open);
        let access = format!("{name}[{}]", rewrite(&text[open + 1..close - 1], arrays));
        let rest = &text[close..];
        let spaces = rest.len() - rest.trim_start().len();
        let after = &rest[spaces..];
        if after.starts_with('=') && !after.starts_with("==") {
            let value_start = close + spaces + 1;
            let end = value_start
                + text[value_start..]
                    .find(';')
                    .unwrap_or(text.len() - value_start);
            let value = rewrite(&text[value_start..end], arrays);
            out.push_str(&format!("{access} = f16({});", value.trim()));
            i = (end + 1).min(text.len());
        } else {
            out.push_str(&format!("f32({access})"));
            i = close;
        }
    }
    out
}

/// The f16-storage version of a kernel: its f32 storage arrays become f16, loads widen to f32
/// and stores narrow to f16; everything else, workgroup memory included, stays f32.
pub fn f16_source(source: &str) -> String {
    let arrays = f32_arrays(source);
    let mut out = String::from("enable f16;\n");
    for line in strip_comments(source).lines() {
        if line.contains("var<storage") && line.contains(": array<f32>") {
            out.push_str(&line.replace("array<f32>", "array<f16>"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    // Declarations are already rewritten and contain no `NAME[`, so the whole text is safe.
    rewrite(&out, &arrays)
}

/// The source without its `//` comments, line breaks kept: `y[r] = ...` in a formula is no
/// store to rewrite.
pub(super) fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}
