//! Reading the layout of a safetensors file: an 8-byte little-endian header length, a JSON
//! header mapping tensor names to `{dtype, shape, data_offsets}`, then the data. Everything is
//! checked before any tensor is read, and every error names the file and the tensor concerned.

use std::collections::HashMap;

use safetensors::Dtype;
use serde::Deserialize;

use super::LoadError;

/// The header-size bound of the reference implementation: a larger header is refused there too.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Where one tensor lies in the file: its dtype, shape, and its bytes as offsets from the start
/// of the file.
#[derive(Clone, Debug)]
pub struct TensorSpan {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub begin: usize,
    pub end: usize,
}

#[derive(Deserialize)]
struct RawEntry {
    dtype: serde_json::Value,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Where every tensor of a safetensors file `total` bytes long lies, read from its first bytes
/// `head`; `None` while `head` does not hold the whole header yet (a file arriving over the
/// network). `file` names it in errors.
pub fn read_spans(
    file: &str,
    head: &[u8],
    total: usize,
) -> Result<Option<HashMap<String, TensorSpan>>, LoadError> {
    let error = |message: String| LoadError::Safetensors {
        file: file.to_string(),
        message,
    };
    if total == 0 {
        return Err(error(
            "the file is empty; a safetensors file starts with an 8-byte header length".into(),
        ));
    }
    if total < 8 {
        return Err(error(format!(
            "the file is {total} bytes, shorter than the 8-byte header length a safetensors file starts with"
        )));
    }
    let Some((length, rest)) = head.split_first_chunk::<8>() else {
        return Ok(None);
    };
    let header_len = u64::from_le_bytes(*length);
    if header_len > (total - 8) as u64 {
        return Err(error(format!(
            "the header length in the first 8 bytes is {header_len}, past the end of the file ({total} bytes): the file is truncated or not safetensors"
        )));
    }
    if header_len > MAX_HEADER_BYTES {
        return Err(error(format!(
            "the header length in the first 8 bytes is {header_len}, over the limit of {MAX_HEADER_BYTES} bytes"
        )));
    }
    if (rest.len() as u64) < header_len {
        return Ok(None);
    }
    let header = &rest[..header_len as usize];
    let data_start = 8 + header_len as usize;
    let data_len = total - data_start;
    let header = std::str::from_utf8(header).map_err(|e| {
        error(format!(
            "the header (bytes 8..{}) is not UTF-8: {e}",
            8 + header_len
        ))
    })?;
    let header: serde_json::Value =
        serde_json::from_str(header).map_err(|e| error(format!("the header is not JSON: {e}")))?;
    let serde_json::Value::Object(header) = header else {
        return Err(error(format!(
            "the header is {}, expected a JSON object of tensors",
            json_kind(&header)
        )));
    };
    let mut tensors = HashMap::with_capacity(header.len());
    let mut spans: Vec<(usize, usize, &str)> = Vec::with_capacity(header.len());
    for (name, value) in &header {
        if name == "__metadata__" {
            let strings = value
                .as_object()
                .is_some_and(|m| m.values().all(serde_json::Value::is_string));
            if !strings {
                return Err(error(format!(
                    "`__metadata__` is {}, expected an object of strings",
                    json_kind(value)
                )));
            }
            continue;
        }
        let tensor_error =
            |message: String| error(format!("tensor `{name}` in the header: {message}"));
        let raw = RawEntry::deserialize(value).map_err(|e| {
            tensor_error(format!(
                "expected {{\"dtype\", \"shape\", \"data_offsets\"}}: {e}"
            ))
        })?;
        let dtype = Dtype::deserialize(&raw.dtype).map_err(|_| {
            tensor_error(format!(
                "dtype {} is not a safetensors dtype (F32, F16, BF16, I64, ...)",
                shorten(&raw.dtype.to_string())
            ))
        })?;
        let [begin, end] = raw.data_offsets;
        let size = raw
            .shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.bitsize()))
            .filter(|bits| bits % 8 == 0)
            .map(|bits| bits / 8)
            .ok_or_else(|| {
                tensor_error(format!(
                    "shape {:?} of {dtype:?} is not a whole number of bytes that fits in memory",
                    raw.shape
                ))
            })?;
        if begin > end {
            return Err(tensor_error(format!(
                "data_offsets [{begin}, {end}] end before they begin"
            )));
        }
        if end > data_len {
            return Err(tensor_error(format!(
                "data_offsets [{begin}, {end}] run past the end of the data ({data_len} bytes after the header): the file is truncated"
            )));
        }
        if end - begin != size {
            return Err(tensor_error(format!(
                "data_offsets [{begin}, {end}] hold {} bytes, but shape {:?} of {dtype:?} needs {size}",
                end - begin,
                raw.shape
            )));
        }
        spans.push((begin, end, name));
        tensors.insert(
            name.clone(),
            TensorSpan {
                dtype,
                shape: raw.shape,
                begin: data_start + begin,
                end: data_start + end,
            },
        );
    }
    check_coverage(file, &mut spans, data_len)?;
    Ok(Some(tensors))
}

/// The tensors' bytes must tile the data exactly, as the format requires: no overlap (two
/// tensors sharing bytes) and no hole (bytes that belong to no tensor).
fn check_coverage(
    file: &str,
    spans: &mut [(usize, usize, &str)],
    data_len: usize,
) -> Result<(), LoadError> {
    let error = |message: String| LoadError::Safetensors {
        file: file.to_string(),
        message,
    };
    spans.sort_unstable();
    let mut covered = 0;
    let mut previous: Option<(usize, usize, &str)> = None;
    for &(begin, end, name) in spans.iter() {
        if begin < covered {
            let (b, e, other) = previous.expect("bytes are covered only after a tensor");
            return Err(error(format!(
                "tensor `{name}` (data bytes {begin}..{end}) overlaps tensor `{other}` (data bytes {b}..{e})"
            )));
        }
        if begin > covered {
            return Err(error(format!(
                "data bytes {covered}..{begin} belong to no tensor (the next one is `{name}`)"
            )));
        }
        covered = end;
        previous = Some((begin, end, name));
    }
    if covered < data_len {
        return Err(error(format!(
            "data bytes {covered}..{data_len} at the end of the file belong to no tensor"
        )));
    }
    Ok(())
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// At most 40 characters of `text`, so that hostile input cannot flood an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
