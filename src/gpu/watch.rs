//! Hot reload: watches a folder of kernel files (as `glassbox kernels export` writes them, or
//! new variants) and loads a file into the registry when it changes. A file that does not
//! compile is reported with its line and column, and the last good pipeline keeps running.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::kernels::{kernel_files, KernelError, KernelRegistry, Loaded};

#[derive(Debug)]
pub enum Reload {
    /// The file now runs: a new variant of its family, or the new code of a kernel.
    Loaded(Loaded),
    /// The file does not compile (or does not keep its family's interface); the previous
    /// version keeps running.
    Failed(KernelError),
}

pub struct KernelWatcher {
    dir: PathBuf,
    seen: HashMap<PathBuf, SystemTime>,
}

impl KernelWatcher {
    /// Watches `dir`; files already there are loaded by the first `poll`.
    pub fn new(dir: &Path) -> KernelWatcher {
        KernelWatcher {
            dir: dir.to_path_buf(),
            seen: HashMap::new(),
        }
    }

    /// Checks every kernel file for changes since the last poll and loads the changed ones.
    pub fn poll(&mut self, device: &wgpu::Device, registry: &mut KernelRegistry) -> Vec<Reload> {
        let files = match kernel_files(&self.dir) {
            Ok(files) => files,
            Err(error) => return vec![Reload::Failed(error)],
        };
        let mut events = Vec::new();
        for path in files {
            let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
                continue;
            };
            if self.seen.get(&path) == Some(&modified) {
                continue;
            }
            self.seen.insert(path.clone(), modified);
            let file = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
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
            let dir = &self.dir;
            match registry.load(device, &file, &text, &|name| {
                std::fs::read_to_string(dir.join(name)).ok()
            }) {
                Ok(Loaded::Unchanged(_)) => {}
                Ok(loaded) => events.push(Reload::Loaded(loaded)),
                Err(error) => events.push(Reload::Failed(error)),
            }
        }
        events
    }
}
