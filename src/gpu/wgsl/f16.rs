//! f16 storage without writing kernels twice: the f32 storage arrays of a kernel become f16,
//! every load widens to f32 and every store narrows to f16.

use super::{is_ident, matching_bracket, strip_comments};

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
