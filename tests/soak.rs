//! The soak test: the window plays, steps, hovers and types by itself for ten minutes (through
//! the same input paths as a user's mouse and keyboard), and its memory and the GPU objects
//! alive, sampled at the same point of every cycle, must stay flat. `GLASSBOX_SOAK_SECONDS`
//! shortens it for a quick local run; CI runs the full ten minutes.

use std::process::Command;

#[test]
fn ten_minutes_of_use_leave_memory_and_gpu_objects_flat() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "no display: run the tests under xvfb-run (scripts/test.sh does)"
    );
    let seconds = std::env::var("GLASSBOX_SOAK_SECONDS").unwrap_or_else(|_| "600".to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["view", "--soak", &seconds])
        .output()
        .expect("glassbox runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("soak: flat"), "{stdout}");
    // The samples: at least a few cycles, each with GPU objects counted.
    let samples = stdout
        .lines()
        .find_map(|l| l.strip_prefix("soak: ["))
        .expect("the samples are printed");
    let counted = samples.matches("\"live_gpu_objects\":").count();
    assert!(counted >= 2, "{samples}");
    assert!(!samples.contains("\"live_gpu_objects\":0"), "{samples}");
    assert!(
        stdout.contains("readbacks in steady-state frames: 0"),
        "{stdout}"
    );
}
