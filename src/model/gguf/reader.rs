//! The GGUF container (llama.cpp's model file, version 2 and 3): a header, typed metadata, the
//! tensor infos, then the tensor data at `general.alignment`. Everything read from the file is
//! bounded before it is used: lengths and counts against the bytes that are left, offsets and
//! sizes against the data section, tensors against each other. Errors name the file, the field
//! or tensor, and what was expected.

use std::collections::BTreeMap;

use super::quant::GgmlType;
use crate::model::LoadError;

const MAGIC: &[u8; 4] = b"GGUF";
/// A metadata array, or a tensor's dimension count, beyond which a file is refused: real files
/// hold a vocabulary (about 150,000 strings) at most, and 4 dimensions.
const MAX_ARRAY: u64 = 1 << 24;
const MAX_DIMS: u32 = 4;
const DEFAULT_ALIGNMENT: u64 = 32;

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Array(Vec<Value>),
}

impl Value {
    /// An integer of any width, where it is one and fits.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v as u64),
            Value::U16(v) => Some(v as u64),
            Value::U32(v) => Some(v as u64),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// What kind of value this is, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::U8(_) | Value::U16(_) | Value::U32(_) | Value::U64(_) => "an unsigned integer",
            Value::I8(_) | Value::I16(_) | Value::I32(_) | Value::I64(_) => "a signed integer",
            Value::F32(_) | Value::F64(_) => "a float",
            Value::Bool(_) => "a bool",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
        }
    }
}

/// One tensor's info: its ggml type, its dimensions (ggml's order: the first is the row, the
/// one whose values are adjacent) and where its bytes lie in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Byte range in the whole file.
    pub start: usize,
    pub end: usize,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed GGUF file: its metadata by key and its tensors by name, over the file's bytes.
#[derive(Debug)]
pub struct Gguf<'a> {
    pub file: String,
    pub version: u32,
    pub metadata: BTreeMap<String, Value>,
    pub tensors: BTreeMap<String, TensorInfo>,
    bytes: &'a [u8],
}

struct Cursor<'a> {
    file: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn error(&self, what: &str, message: String) -> LoadError {
        LoadError::Gguf {
            file: self.file.to_string(),
            message: format!("{what} (at byte {}): {message}", self.at),
        }
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], LoadError> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(self.error(what, format!("needs {n} bytes, the file has {left} left")));
        }
        let slice = &self.bytes[self.at..self.at + n as usize];
        self.at += n as usize;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], LoadError> {
        Ok(self
            .take(N as u64, what)?
            .try_into()
            .expect("N bytes taken"))
    }

    fn u32(&mut self, what: &str) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &str) -> Result<String, LoadError> {
        let len = self.u64(what)?;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| self.error(what, format!("not UTF-8: {e}")))
    }

    /// A count of items each at least `min_bytes` long, refused when the bytes left cannot
    /// hold them (so that a hostile count allocates nothing).
    fn count(&mut self, what: &str, min_bytes: u64, limit: u64) -> Result<u64, LoadError> {
        let n = self.u64(what)?;
        let left = (self.bytes.len() - self.at) as u64;
        if n > limit || n.saturating_mul(min_bytes) > left {
            return Err(self.error(
                what,
                format!("{n} items cannot fit in the {left} bytes left (at most {limit})"),
            ));
        }
        Ok(n)
    }

    fn value(&mut self, ty: u32, what: &str, depth: u32) -> Result<Value, LoadError> {
        Ok(match ty {
            0 => Value::U8(self.array::<1>(what)?[0]),
            1 => Value::I8(self.array::<1>(what)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            4 => Value::U32(self.u32(what)?),
            5 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(self.error(what, format!("bool {other}, expected 0 or 1"))),
            },
            8 => Value::String(self.string(what)?),
            9 if depth == 0 => {
                let element = self.u32(what)?;
                let n = self.count(what, 1, MAX_ARRAY)?;
                let mut items = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    items.push(self.value(element, what, depth + 1)?);
                }
                Value::Array(items)
            }
            9 => {
                return Err(self.error(
                    what,
                    "an array of arrays, which GGUF models do not hold".into(),
                ))
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            other => {
                return Err(self.error(
                    what,
                    format!("unknown value type {other}, expected 0 to 12"),
                ))
            }
        })
    }
}

impl<'a> Gguf<'a> {
    /// Parses the header, metadata and tensor infos of `bytes` (the whole file), checking every
    /// tensor's bytes lie inside the data section, apart from one another.
    pub fn parse(file: &str, bytes: &'a [u8]) -> Result<Gguf<'a>, LoadError> {
        let mut c = Cursor { file, bytes, at: 0 };
        let magic = c.array::<4>("the magic number")?;
        if &magic != MAGIC {
            return Err(c.error(
                "the magic number",
                format!("found {magic:?}, expected \"GGUF\": not a GGUF file"),
            ));
        }
        let version = c.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(c.error("the version", format!("{version}, expected 2 or 3")));
        }
        // A tensor info is at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes.
        let tensor_count = c.count("the tensor count", 24, MAX_ARRAY)?;
        let kv_count = c.count("the metadata count", 12, MAX_ARRAY)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..kv_count {
            let key = c.string("a metadata key")?;
            let what = format!("metadata `{key}`");
            let ty = c.u32(&what)?;
            let value = c.value(ty, &what, 0)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(c.error(&what, "the key appears twice".into()));
            }
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_u64() {
                Some(a) if a.is_power_of_two() && a <= 1 << 16 => a,
                _ => {
                    return Err(c.error(
                        "metadata `general.alignment`",
                        format!("{v:?}, expected a power of two up to 65536"),
                    ))
                }
            },
        };
        let mut infos = Vec::with_capacity(tensor_count as usize);
        for _ in 0..tensor_count {
            let name = c.string("a tensor name")?;
            let what = format!("tensor `{name}`");
            let n_dims = c.u32(&what)?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(c.error(
                    &what,
                    format!("{n_dims} dimensions, expected 1 to {MAX_DIMS}"),
                ));
            }
            let dims = (0..n_dims)
                .map(|_| c.u64(&what))
                .collect::<Result<Vec<_>, _>>()?;
            let ty = GgmlType::from_id(c.u32(&what)?).map_err(|e| c.error(&what, e))?;
            let offset = c.u64(&what)?;
            infos.push((name, dims, ty, offset));
        }
        let data_start = (c.at as u64).div_ceil(alignment) * alignment;
        let data_len = (bytes.len() as u64).saturating_sub(data_start);
        let mut tensors = BTreeMap::new();
        for (name, dims, ty, offset) in infos {
            let what = format!("tensor `{name}`");
            let error = |message: String| LoadError::Gguf {
                file: file.to_string(),
                message: format!("{what}: {message}"),
            };
            let size = ty.bytes_for(&dims).map_err(&error)?;
            if !offset.is_multiple_of(alignment) {
                return Err(error(format!(
                    "offset {offset} is not a multiple of the alignment {alignment}"
                )));
            }
            let end = offset
                .checked_add(size)
                .filter(|&e| e <= data_len)
                .ok_or_else(|| {
                    error(format!(
                    "{size} bytes at offset {offset} run past the data section's {data_len} bytes"
                ))
                })?;
            let info = TensorInfo {
                name: name.clone(),
                dims,
                ty,
                start: (data_start + offset) as usize,
                end: (data_start + end) as usize,
            };
            if tensors.insert(name, info).is_some() {
                return Err(error("the name appears twice".into()));
            }
        }
        let mut spans: Vec<&TensorInfo> = tensors.values().collect();
        spans.sort_by_key(|t| t.start);
        for pair in spans.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(LoadError::Gguf {
                    file: file.to_string(),
                    message: format!(
                        "tensors `{}` and `{}` overlap (bytes {}..{} and {}..{})",
                        pair[0].name,
                        pair[1].name,
                        pair[0].start,
                        pair[0].end,
                        pair[1].start,
                        pair[1].end
                    ),
                });
            }
        }
        Ok(Gguf {
            file: file.to_string(),
            version,
            metadata,
            tensors,
            bytes,
        })
    }

    /// The bytes of a tensor.
    pub fn data(&self, info: &TensorInfo) -> &'a [u8] {
        &self.bytes[info.start..info.end]
    }

    /// A metadata value, or an error naming the key and what was expected.
    pub fn get(&self, key: &str, expected: &str) -> Result<&Value, LoadError> {
        self.metadata.get(key).ok_or_else(|| LoadError::Gguf {
            file: self.file.clone(),
            message: format!("metadata `{key}` is missing: expected {expected}"),
        })
    }

    /// An unsigned integer of the metadata.
    pub fn u64(&self, key: &str) -> Result<u64, LoadError> {
        let value = self.get(key, "an unsigned integer")?;
        value
            .as_u64()
            .ok_or_else(|| self.wrong(key, value, "an unsigned integer"))
    }

    /// A float of the metadata (an integer is taken too).
    pub fn f64(&self, key: &str) -> Result<f64, LoadError> {
        let value = self.get(key, "a number")?;
        value
            .as_f64()
            .ok_or_else(|| self.wrong(key, value, "a number"))
    }

    pub fn str(&self, key: &str) -> Result<&str, LoadError> {
        let value = self.get(key, "a string")?;
        value
            .as_str()
            .ok_or_else(|| self.wrong(key, value, "a string"))
    }

    pub fn wrong(&self, key: &str, value: &Value, expected: &str) -> LoadError {
        LoadError::Gguf {
            file: self.file.clone(),
            message: format!("metadata `{key}` is {}, expected {expected}", value.kind()),
        }
    }
}
