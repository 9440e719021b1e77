//! Hot reload: watches a folder of kernel files (as `glassbox kernels export` writes them) and
//! swaps a kernel's pipeline when its file changes. A file that does not compile is reported with
//! its line and column, and the last good pipeline keeps running.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::kernels::{KernelError, KernelRegistry, BUILTIN_KERNELS};

#[derive(Debug)]
pub enum Reload {
    /// The kernel of this name now runs the file's code.
    Reloaded(String),
    /// The file does not compile (or does not keep the kernel's interface); the previous
    /// version keeps running.
    Failed(KernelError),
}

pub struct KernelWatcher {
    dir: PathBuf,
    seen: HashMap<&'static str, SystemTime>,
}

impl KernelWatcher {
    /// Watches `dir`; files already there are loaded by the first `poll`.
    pub fn new(dir: &Path) -> KernelWatcher {
        KernelWatcher {
            dir: dir.to_path_buf(),
            seen: HashMap::new(),
        }
    }

    /// Checks every kernel file for changes since the last poll and reloads the changed ones.
    pub fn poll(&mut self, device: &wgpu::Device, registry: &mut KernelRegistry) -> Vec<Reload> {
        let mut events = Vec::new();
        for spec in BUILTIN_KERNELS {
            let path = self.dir.join(format!("{}.wgsl", spec.name));
            let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
                continue;
            };
            if self.seen.get(spec.name) == Some(&modified) {
                continue;
            }
            self.seen.insert(spec.name, modified);
            let file = path.display().to_string();
            let source = match std::fs::read_to_string(&path) {
                Ok(source) => source,
                Err(e) => {
                    events.push(Reload::Failed(KernelError {
                        file,
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    }));
                    continue;
                }
            };
            if source == registry.source(spec.name) {
                continue;
            }
            events.push(match registry.replace(device, spec.name, &file, &source) {
                Ok(()) => Reload::Reloaded(spec.name.to_string()),
                Err(e) => Reload::Failed(e),
            });
        }
        events
    }
}

/// Writes the built-in kernels into `dir` for editing, one `NAME.wgsl` each. Existing files are
/// never overwritten (they may hold someone's edits): they are listed in the error instead.
pub fn export_kernels(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let existing: Vec<String> = BUILTIN_KERNELS
        .iter()
        .map(|spec| dir.join(format!("{}.wgsl", spec.name)))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("not overwriting {}", existing.join(", ")),
        ));
    }
    let mut written = Vec::new();
    for spec in BUILTIN_KERNELS {
        let path = dir.join(format!("{}.wgsl", spec.name));
        std::fs::write(&path, spec.source)?;
        written.push(path);
    }
    Ok(written)
}
