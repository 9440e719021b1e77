//! What `glassbox tune` keeps: for each adapter and precision, the fastest variant that matched
//! the CPU reference on each op shape, in one JSON file under the user's cache directory. The
//! CLI and the window read it when they open a device (see [`GpuOptions::tuned`]); the tests
//! and the library's default do not, so their kernels do not depend on what was tuned.
//!
//! [`GpuOptions::tuned`]: super::GpuOptions::tuned

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{GpuError, Precision};

/// The file: by adapter ([`adapter_key`]), by precision and op shape ([`entry_key`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TunedFile {
    pub adapters: BTreeMap<String, BTreeMap<String, TunedOp>>,
}

/// The variant kept for one op shape, with what it was measured against.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TunedOp {
    pub family: String,
    pub variant: String,
    /// Its median time on this shape, in milliseconds.
    pub ms: f64,
    /// Every variant tried: its median time, or why it was not kept.
    pub tried: Vec<TriedVariant>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriedVariant {
    pub variant: String,
    /// Its median time, given exactly when it agreed with the CPU reference.
    pub ms: Option<f64>,
    /// "ok", or what disqualified it (a difference from the CPU reference, a launch error).
    pub outcome: String,
}

/// Which adapter a tuned choice belongs to: its name, backend and driver with its version, so
/// a driver update (a new Mesa, a new NVIDIA driver) starts from the defaults again.
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}; {} {})",
        info.name, info.backend, info.driver, info.driver_info
    )
}

/// An entry's key: the precision and the op's shape ([`super::variants::tuning_key`]).
pub fn entry_key(precision: Precision, tuning_key: &str) -> String {
    format!("{} {tuning_key}", precision.name())
}

impl TunedFile {
    /// The variants tuned for `adapter` at `precision`, by op shape.
    pub fn choices(&self, adapter: &str, precision: Precision) -> BTreeMap<String, String> {
        let prefix = entry_key(precision, "");
        self.adapters
            .get(adapter)
            .into_iter()
            .flatten()
            .filter_map(|(key, op)| {
                let shape = key.strip_prefix(&prefix)?;
                Some((shape.to_string(), op.variant.clone()))
            })
            .collect()
    }

    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<TunedFile, GpuError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TunedFile::default()),
            Err(e) => return Err(GpuError::Tuned(format!("{}: {e}", path.display()))),
        };
        serde_json::from_str(&text).map_err(|e| {
            GpuError::Tuned(format!(
                "{}: {e}; expected what `glassbox tune` writes: delete the file or run `glassbox \
                 tune` again",
                path.display()
            ))
        })
    }

    /// Writes `path` whole (through a temporary file, so a reader never sees half of it).
    pub fn save(&self, path: &Path) -> Result<(), GpuError> {
        let error = |e: std::io::Error| GpuError::Tuned(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let text = serde_json::to_string_pretty(self).expect("plain data serializes");
        let temporary = path.with_extension("json.partial");
        std::fs::write(&temporary, text).map_err(error)?;
        std::fs::rename(&temporary, path).map_err(error)
    }
}

/// Where the tuned choices live: `$GLASSBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/glassbox`, else
/// `~/.cache/glassbox` (`%LOCALAPPDATA%\glassbox` on Windows), file `tuned.json`.
pub fn default_path(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let dir = var("GLASSBOX_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| Path::new(&d).join("glassbox")))
        .or_else(|| var("HOME").map(|d| Path::new(&d).join(".cache").join("glassbox")))
        .or_else(|| var("LOCALAPPDATA").map(|d| Path::new(&d).join("glassbox")))
        // No home at all (a bare container): below the working directory beats failing.
        .unwrap_or_else(|| Path::new(".cache").join("glassbox"));
    dir.join("tuned.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_variable_set_names_the_folder() {
        fn vars(set: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
            move |key| {
                set.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        }
        assert_eq!(
            default_path(vars(&[("GLASSBOX_CACHE_DIR", "/a"), ("HOME", "/h")])),
            Path::new("/a/tuned.json")
        );
        assert_eq!(
            default_path(vars(&[("HOME", "/h")])),
            Path::new("/h/.cache/glassbox/tuned.json")
        );
        assert_eq!(
            default_path(vars(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Path::new("/x/glassbox/tuned.json")
        );
    }

    #[test]
    fn choices_are_per_adapter_and_precision() {
        let op = |variant: &str| TunedOp {
            family: "linear".into(),
            variant: variant.into(),
            ms: 1.0,
            tried: Vec::new(),
        };
        let mut file = TunedFile::default();
        let entries = file.adapters.entry("a".into()).or_default();
        entries.insert(entry_key(Precision::F32, "Linear"), op("broadcast"));
        entries.insert(entry_key(Precision::F16, "Linear"), op("naive"));
        let f32_choices = file.choices("a", Precision::F32);
        assert_eq!(
            f32_choices.get("Linear").map(String::as_str),
            Some("broadcast")
        );
        assert_eq!(f32_choices.len(), 1);
        assert!(file.choices("b", Precision::F32).is_empty());
    }

    #[test]
    fn a_damaged_file_is_an_error_that_names_it() {
        let dir = std::env::temp_dir().join(format!("glassbox-tuned-{}", std::process::id()));
        let path = dir.join("tuned.json");
        assert!(TunedFile::load(&path).unwrap().adapters.is_empty());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "{\"adapters\": 3}").unwrap();
        let error = TunedFile::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("tuned.json") && error.contains("glassbox tune"),
            "{error}"
        );
        TunedFile::default().save(&path).unwrap();
        assert!(TunedFile::load(&path).unwrap().adapters.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
