use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_wayland_probe();
    match glassbox::cli::run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opening a Vulkan device probes for a Wayland display, and without `XDG_RUNTIME_DIR`
/// libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set" twice although nothing is
/// wrong (headless, under X11, on CI). Where there is no Wayland session, point it at a private
/// empty folder: the probe then finds no display, quietly.
fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        return;
    }
    let user = std::env::var("USER").unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("glassbox-runtime-{user}"));
    if private_folder(&dir).is_ok() {
        // Still single-threaded: nothing else reads the environment yet.
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

/// Creates `dir` for this user alone, or accepts it if it already is: owned by this user and
/// closed to others (another user could otherwise plant a display socket in it).
#[cfg(unix)]
fn private_folder(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let me = std::fs::metadata("/proc/self")?.uid();
    let folder = std::fs::symlink_metadata(dir)?;
    if folder.is_dir() && folder.uid() == me && folder.mode() & 0o077 == 0 {
        Ok(())
    } else {
        Err(std::io::ErrorKind::PermissionDenied.into())
    }
}

#[cfg(not(unix))]
fn private_folder(_: &std::path::Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
