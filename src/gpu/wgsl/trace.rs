//! Deriving the execution-trace version of any kernel, its source rewritten so that the
//! unchanged computation also records the order of its workgroups: at the start, thread 0 of
//! each workgroup takes the next number from an atomic counter, and every store into the op's
//! output also writes that number into a cell buffer at the same index. The picture then shows
//! which workgroup computed which cells, and in what order the GPU started them.

use super::{is_ident, matching, matching_bracket, strip_comments};

/// The trace version of `source`, whose output array is `output`; the counter and the cell
/// buffer take bindings `first_binding` and `first_binding + 1`.
///
/// The order recorded is the order workgroups start in: a kernel may return early from any
/// thread, so there is no common end to record at.
pub fn trace_source(source: &str, output: &str, first_binding: u32) -> Result<String, String> {
    // Stores first, in helper functions too (the blocked linear kernel stores in `store_row`).
    let text = record_stores(&strip_comments(source), output);
    let signature = text.find("fn main(").ok_or("no `fn main(`")? + "fn main".len();
    let close = matching(&text, signature, ('(', ')'));
    let params = &text[signature + 1..close - 1];
    let lid = params.split(',').find_map(|param| {
        let (_, rest) = param.split_once("@builtin(local_invocation_index)")?;
        Some(rest.split(':').next()?.trim().to_string())
    });
    let (extra, lid) = match lid {
        Some(name) => (String::new(), name),
        None => {
            let comma = if params.trim().is_empty() || params.trim_end().ends_with(',') {
                ""
            } else {
                ", "
            };
            let param = format!("{comma}@builtin(local_invocation_index) trace_lid: u32");
            (param, "trace_lid".to_string())
        }
    };
    let body = close + text[close..].find('{').ok_or("no body for `main`")? + 1;
    let prologue = format!(
        "\n    if ({lid} == 0u) {{ trace_shared = atomicAdd(&trace_counter[0], 1u) + 1u; }}\n    \
         trace_rank = workgroupUniformLoad(&trace_shared);"
    );
    let mut out = String::with_capacity(text.len() + 512);
    out.push_str(&text[..close - 1]);
    out.push_str(&extra);
    out.push_str(&text[close - 1..body]);
    out.push_str(&prologue);
    out.push_str(&text[body..]);
    out.push_str(&format!(
        "\n@group(0) @binding({first_binding}) var<storage, read_write> trace_counter: array<atomic<u32>>;\n\
         @group(0) @binding({}) var<storage, read_write> trace_cells: array<u32>;\n\
         var<workgroup> trace_shared: u32;\n\
         var<private> trace_rank: u32;\n",
        first_binding + 1
    ));
    Ok(out)
}

/// After every `output[i] = value;`, also `trace_cells[i] = trace_rank;`.
fn record_stores(text: &str, output: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut i = 0;
    while let Some(found) = text[i..].find(output).map(|at| i + at) {
        let open = found + output.len();
        let is_access = text[open..].starts_with('[') && !text[..found].ends_with(is_ident);
        if !is_access {
            out.push_str(&text[i..open]);
            i = open;
            continue;
        }
        let close = matching_bracket(text, open);
        let after = text[close..].trim_start();
        let store = after.starts_with('=') && !after.starts_with("==");
        let Some(end) = store.then(|| text[close..].find(';')).flatten() else {
            out.push_str(&text[i..close]);
            i = close;
            continue;
        };
        let end = close + end + 1;
        out.push_str(&text[i..end]);
        out.push_str(&format!(
            " trace_cells[{}] = trace_rank;",
            &text[open + 1..close - 1]
        ));
        i = end;
    }
    out.push_str(&text[i..]);
    out
}

/// The name of the storage array bound at `binding` in `source`.
pub fn binding_name(source: &str, binding: u32) -> Option<String> {
    let marker = format!("@binding({binding})");
    let line = source
        .lines()
        .find(|l| l.contains(&marker) && l.contains("var<storage"))?;
    let after = &line[line.find("var<storage")?..];
    let after = &after[after.find('>')? + 1..];
    Some(after[..after.find(':')?].trim().to_string())
}
