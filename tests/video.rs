//! `glassbox render --video`: films of the built-in scene, encoded by ffmpeg (which these tests
//! need: CI installs it, and without it they fail rather than skip), the PNG sequence written
//! instead with `--frames-dir` or without ffmpeg on PATH, and the options' errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn glassbox(args: &[&str], path_var: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_glassbox"));
    command.args(args);
    if let Some(path) = path_var {
        command.env("PATH", path);
    }
    command.output().expect("glassbox runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-video-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// ffprobe's decoded frame count, width and height of a film's video stream.
fn probe(film: &Path) -> (u64, u32, u32) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames,width,height"])
        .args(["-of", "csv=p=0"])
        .arg(film)
        .output()
        .expect("ffprobe on PATH (CI installs ffmpeg; apt-get install ffmpeg)");
    assert!(out.status.success(), "ffprobe: {}", text(&out));
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let fields: Vec<&str> = line.split(',').collect();
    assert_eq!(fields.len(), 3, "ffprobe printed {line:?}");
    (
        fields[2].parse().unwrap(),
        fields[0].parse().unwrap(),
        fields[1].parse().unwrap(),
    )
}

/// The frame PNGs of a folder, in order.
fn frames(dir: &Path) -> Vec<PathBuf> {
    let mut frames: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    frames.sort();
    frames
}

fn assert_frames(dir: &Path, count: usize, size: (u32, u32)) {
    let frames = frames(dir);
    assert_eq!(frames.len(), count, "{}", dir.display());
    assert!(frames[0].ends_with("frame_00001.png"), "{frames:?}");
    let last = format!("frame_{count:05}.png");
    assert!(frames[count - 1].ends_with(&last), "{frames:?}");
    for frame in [&frames[0], &frames[count - 1]] {
        assert_eq!(image::image_dimensions(frame).unwrap(), size, "{frame:?}");
    }
}

#[test]
fn a_second_of_a_chapter_is_thirty_frames_of_h264() {
    // ffmpeg must be here: the test fails without it instead of testing only the fallback.
    let version = Command::new("ffmpeg").arg("-version").output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "ffmpeg is not on PATH (CI installs it; apt-get install ffmpeg)"
    );
    let dir = scratch("chapter");
    let film = dir.join("tokens.mp4");
    let out = glassbox(
        &[
            "render",
            "--video",
            film.to_str().unwrap(),
            "--chapter",
            "tokens",
            "--size",
            "1280x720",
            "--fps",
            "30",
            "--seconds",
            "1",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("(30 frames, 1280x720, 30 fps)"),
        "{}",
        text(&out)
    );
    assert_eq!(probe(&film), (30, 1280, 720));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn frames_dir_writes_numbered_pngs_and_the_command() {
    let dir = scratch("frames-dir");
    let pngs = dir.join("pngs");
    // Half a second at 60 fps of one paragraph: 30 frames; the film itself is not written.
    let film = dir.join("softmax.mp4");
    let out = glassbox(
        &[
            "render",
            "--video",
            film.to_str().unwrap(),
            "--chapter",
            "softmax",
            "--paragraph",
            "2",
            "--size",
            "320x180",
            "--fps",
            "60",
            "--seconds",
            "0.5",
            "--frames-dir",
            pngs.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_frames(&pngs, 30, (320, 180));
    assert!(!film.exists());
    let said = text(&out);
    let pattern = pngs.join("frame_%05d.png");
    let command = format!(
        "ffmpeg -y -framerate 60 -i {} -c:v libx264 -pix_fmt yuv420p {}",
        pattern.display(),
        film.display()
    );
    assert!(said.contains(&command), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_ffmpeg_the_frames_go_beside_the_film() {
    let dir = scratch("no-ffmpeg");
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let film = dir.join("ops.mp4");
    // Three ops, half a second each, at 30 fps.
    let out = glassbox(
        &[
            "render",
            "--video",
            film.to_str().unwrap(),
            "--op-range",
            "h.0.ln_1..3",
            "--size",
            "256x144",
        ],
        Some(&empty),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("ffmpeg is not on PATH"),
        "{}",
        text(&out)
    );
    assert_frames(&dir.join("ops-frames"), 45, (256, 144));
    assert!(!film.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_options_are_errors_that_name_them() {
    let refused = |args: &[&str], names: &[&str]| {
        let out = glassbox(args, None);
        assert!(!out.status.success(), "{args:?} was accepted");
        for name in names {
            assert!(text(&out).contains(name), "{args:?}: {}", text(&out));
        }
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    };
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["render", "--video", "x.mp4", "--fps", "25"],
            &["--fps", "30 or 60"],
        ),
        (
            &["render", "--out", "x.png", "--fps", "30"],
            &["--fps", "--video"],
        ),
        (
            &["render", "--video", "x.mp4", "--seconds", "0"],
            &["--seconds"],
        ),
        (
            &["render", "--video", "x.mp4", "--size", "321x180"],
            &["--size", "even"],
        ),
        (
            &["render", "--video", "x.mp4", "--op-range", "h.0.ln_1..nope"],
            &["--op-range", "nope"],
        ),
        (
            &["render", "--video", "x.mp4", "--chapter", "nope"],
            &["--chapter", "tokens"],
        ),
    ];
    for (args, names) in cases {
        refused(args, names);
    }
    // ffmpeg refusing the output: its own words come back.
    let dir = scratch("refused");
    let film = dir.join("no-extension");
    refused(
        &[
            "render",
            "--video",
            film.to_str().unwrap(),
            "--chapter",
            "tokens",
            "--size",
            "64x64",
            "--seconds",
            "0.1",
        ],
        &["ffmpeg", "no-extension"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
