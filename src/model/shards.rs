//! Sharded checkpoints: `model.safetensors.index.json` maps every tensor to the shard file that
//! holds it (`model-00001-of-00002.safetensors`, ...).

use serde_json::Value;

use super::LoadError;

pub const INDEX: &str = "model.safetensors.index.json";

/// The shard files an index names, each once, in the order they first appear: plain file names
/// beside the index (a path that leaves the folder is refused).
pub fn shard_files(file: &str, text: &[u8]) -> Result<Vec<String>, LoadError> {
    let bad = |message: String| LoadError::Index {
        file: file.to_string(),
        message,
    };
    let value: Value =
        serde_json::from_slice(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Some(map) = value.get("weight_map").and_then(Value::as_object) else {
        return Err(bad(
            "field `weight_map`: expected an object from tensor names to shard files".into(),
        ));
    };
    let mut files: Vec<String> = Vec::new();
    for (tensor, shard) in map {
        let Some(shard) = shard.as_str() else {
            return Err(bad(format!(
                "field `weight_map.{tensor}`: expected a file name, got {shard}"
            )));
        };
        let plain = !shard.is_empty()
            && !shard.contains(['/', '\\'])
            && shard != ".."
            && shard.ends_with(".safetensors");
        if !plain {
            return Err(bad(format!(
                "field `weight_map.{tensor}`: expected a .safetensors file beside the index, got {shard:?}"
            )));
        }
        if !files.iter().any(|f| f == shard) {
            files.push(shard.to_string());
        }
    }
    if files.is_empty() {
        return Err(bad(
            "field `weight_map`: expected at least one tensor".into()
        ));
    }
    files.sort();
    Ok(files)
}
