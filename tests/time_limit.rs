//! A kernel loaded from a file that never ends: the command stops with a clear error after the
//! time limit instead of hanging (and does not hang on exit either), and the window gives the
//! device up, opens a new one and goes on with the last good kernels.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// 8 tokens, comma-separated.
fn ids() -> String {
    (0..8).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// A scene folder (ids as tokens, 8 of them) whose model's MLP has enough elements (8 x 2048)
/// that the endless kernel takes seconds even where the driver cuts loops short (lavapipe stops
/// a loop after 65535 rounds, and runs a submission to its end before a wait can time out: there
/// the limit is noticed after the fact).
fn model_dir(test: &str) -> PathBuf {
    let mut config = glassbox::model::Config::gpt2_small();
    (config.n_layer, config.n_head, config.n_embd) = (1, 8, 512);
    (config.vocab_size, config.n_positions) = (64, 64);
    let dir = std::env::temp_dir().join(format!("glassbox-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = glassbox::model::Model::random(config.clone(), 1);
    std::fs::write(dir.join("config.json"), config.to_json()).unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        model.to_safetensors().unwrap(),
    )
    .unwrap();
    let scene = format!(
        "name = \"endless\"\nmodel = \".\"\nprompt = \"{}\"\n\n[tokenizer]\nkind = \"ids\"\n",
        ids()
    );
    std::fs::write(dir.join("scene.toml"), scene).unwrap();
    dir
}

fn hang_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/kernels/hang").to_string()
}

fn glassbox(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .output()
        .expect("glassbox runs");
    (out, start.elapsed())
}

#[test]
fn an_endless_kernel_stops_the_command_with_an_error() {
    let dir = model_dir("endless-check");
    let model = dir.display().to_string();
    let ids = ids();
    let args = [
        "check",
        "--model",
        &model,
        "--ids",
        &ids,
        "--kernels",
        &hang_dir(),
    ];
    let (out, took) = glassbox(&[&args[..], &["--kernel-time-limit", "1"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "the GPU did not finish within 1 s: a kernel loaded from a file may never end"
        ),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    // Without the endless kernel the same command passes under the same limit.
    let (out, _) = glassbox(&[
        "check",
        "--model",
        &model,
        "--ids",
        &ids,
        "--kernels",
        concat!(env!("CARGO_MANIFEST_DIR"), "/docs/kernels"),
        "--kernel-time-limit",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_window_rolls_an_endless_kernel_back_on_a_new_device() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "no display: run the tests under xvfb-run (scripts/test.sh does)"
    );
    let dir = model_dir("endless-view");
    let model = dir.display().to_string();
    let (out, took) = glassbox(&[
        "view",
        "--scene",
        &model,
        "--kernels",
        &hang_dir(),
        "--kernel-time-limit",
        "1",
        "--frames",
        "20",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("did not finish its work in time"),
        "{stdout}"
    );
    assert!(
        stdout.contains("frames: 20, readbacks in steady-state frames: 0, devices recreated: 1"),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
