//! The `glassbox` binary, as a user runs it.

mod common;

use std::process::{Command, Output};

use glassbox::values::compare::compare;

/// Runs the binary with an empty cache folder of this process's own, so that no tuned choices
/// left on the machine pick its kernels.
fn glassbox(args: &[&str]) -> Output {
    let cache = std::env::temp_dir().join(format!("glassbox-cli-cache-{}", std::process::id()));
    glassbox_with_cache(args, &cache)
}

fn glassbox_with_cache(args: &[&str], cache: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .env("GLASSBOX_CACHE_DIR", cache)
        .output()
        .expect("glassbox runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const IDS: &str = "48,50,95,91,65,0,56,103,122,53,93,83,66,127,39,6";

fn model() -> String {
    common::oracle_dir("tiny_2l").display().to_string()
}

#[test]
fn forward_prints_top_predictions_on_both_backends() {
    let mut tables = Vec::new();
    for backend in ["gpu", "cpu"] {
        let out = glassbox(&[
            "forward",
            "--model",
            &model(),
            "--ids",
            IDS,
            "--backend",
            backend,
            "--top",
            "3",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        // Nothing is wrong, so nothing says error (libwayland's probe used to, twice).
        assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("next token after position 15 (token 6)"),
            "{text}"
        );
        let ranked: Vec<&str> = text
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().nth(1).unwrap())
            .collect();
        assert_eq!(ranked.len(), 3, "{text}");
        tables.push(ranked.join(","));
    }
    assert_eq!(tables[0], tables[1], "both backends rank the same tokens");
}

#[test]
fn dump_matches_transformers() {
    for (backend, extra) in [("gpu", None), ("cpu", None), ("gpu", Some("7"))] {
        let path = std::env::temp_dir().join(format!(
            "glassbox-dump-{backend}-{}-{extra:?}.safetensors",
            std::process::id()
        ));
        let (model, path_str) = (model(), path.display().to_string());
        let mut args = vec![
            "forward",
            "--model",
            &model,
            "--ids",
            IDS,
            "--backend",
            backend,
        ];
        args.extend(["--dump", &path_str]);
        if let Some(rows) = extra {
            args.extend(["--max-chunk-rows", rows]);
        }
        let out = glassbox(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let dumped = common::read_expected(&path);
        let expected =
            common::read_expected(&common::oracle_dir("tiny_2l").join("expected.safetensors"));
        for (name, shape, want) in &expected {
            let (_, got_shape, got) = dumped
                .iter()
                .find(|(n, _, _)| n == name)
                .unwrap_or_else(|| panic!("dump lacks {name}"));
            assert_eq!(got_shape, shape, "{name}");
            let diff = compare(got, want);
            assert!(diff.passes(), "{backend} {name}: {diff:?}");
        }
        for name in [
            "h.0.ln_1.mean",
            "h.1.attn.scores",
            "probs.sum",
            "h.0.mlp.gelu",
        ] {
            assert!(dumped.iter().any(|(n, _, _)| n == name), "dump has {name}");
        }
    }
}

#[test]
fn check_passes_and_lists_every_op() {
    let out = glassbox(&["check", "--model", &model(), "--ids", "1,2,3,4,5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("all 30 ops agree"), "{text}");
    for name in [
        "h.1.attn.softmax",
        "h.0.attn.probs.max",
        "logits",
        "probs.sum",
    ] {
        assert!(text.contains(name), "{text}");
    }
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let out = glassbox(&["forward", "--model", "/nonexistent/model", "--ids", "1"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/model/config.json"),
        "{}",
        stderr(&out)
    );

    let out = glassbox(&["forward", "--model", &model(), "--ids", "1,128"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("token id 128 at position 1"),
        "{}",
        stderr(&out)
    );

    let many = vec!["1"; 33].join(",");
    let out = glassbox(&["check", "--model", &model(), "--ids", &many]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("33 tokens"), "{}", stderr(&out));

    let out = glassbox(&[
        "forward",
        "--model",
        &model(),
        "--ids",
        "1",
        "--kernels",
        "docs/kernels",
        "--kernel-time-limit",
        "inf",
    ]);
    assert!(
        stderr(&out).contains("--kernel-time-limit inf: expected a positive number of seconds"),
        "{}",
        stderr(&out)
    );

    // Render sizes and output paths.
    let out = glassbox(&["render", "--size", "0x0", "--out", "x.png"]);
    assert!(
        stderr(&out).contains("--size: 0x0 is outside 1..="),
        "{}",
        stderr(&out)
    );
    let out = glassbox(&["render", "--size", "64x", "--out", "x.png"]);
    assert!(stderr(&out).contains("--size \"64x\""), "{}", stderr(&out));
    let out = glassbox(&["render", "--size", "64x64", "--out", "/nonexistent/x.png"]);
    assert!(
        stderr(&out).contains("writing /nonexistent/x.png: No such file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_json_reports_every_kernel_with_peak_fractions() {
    let json_out = std::env::temp_dir().join(format!("glassbox-bench-{}.json", std::process::id()));
    let out = glassbox(&[
        "bench",
        "--model",
        &model(),
        "--seq-len",
        "8",
        "--reps",
        "1",
        "--seq-lens",
        "1,3,64,1024",
        "--json",
        "--json-out",
        json_out.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        std::fs::read_to_string(&json_out).unwrap().trim(),
        stdout(&out).trim(),
        "--json-out writes what --json prints"
    );
    // A line per stage on stderr.
    for stage in ["peaks", "kernel variants", "the decode step", "done"] {
        assert!(stderr(&out).contains(stage), "{}", stderr(&out));
    }
    let kernels = report["kernels"].as_array().unwrap();
    let names: std::collections::BTreeSet<&str> = kernels
        .iter()
        .map(|k| k["kernel"].as_str().unwrap())
        .collect();
    // One row per kernel the benchmarked ops run: the families of the graph, each with the
    // variant that ran.
    let config = glassbox::model::Model::load_dir(std::path::Path::new(&model()))
        .unwrap()
        .config;
    let families: std::collections::BTreeSet<&str> = glassbox::graph::Graph::forward(&config, 8)
        .ops
        .iter()
        .map(|op| op.kind.kernel_name())
        .collect();
    let ran: std::collections::BTreeSet<&str> = names
        .iter()
        .map(|name| name.split('=').next().unwrap())
        .collect();
    assert_eq!(ran, families, "{names:?}");
    for k in kernels {
        for backend in ["gpu", "cpu"] {
            let fraction = k[backend]["bandwidth_fraction"].as_f64().unwrap();
            assert!(fraction > 0.0 && fraction.is_finite(), "{k}");
            assert!(k[backend]["ms"].as_f64().unwrap() > 0.0, "{k}");
        }
    }
    assert!(report["gpu_peaks"]["gflops"].as_f64().unwrap() > 0.0);
    assert!(report["cpu_peaks"]["bandwidth_gbs"].as_f64().unwrap() > 0.0);
    assert!(report["forward"]["gpu_ms"].as_f64().unwrap() > 0.0);
    let variants: Vec<String> = report["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{}={}",
                v["family"].as_str().unwrap(),
                v["variant"].as_str().unwrap()
            )
        })
        .collect();
    // Every built-in kernel of a family with a choice, and nothing else.
    let expected: Vec<String> = glassbox::gpu::kernels::builtin_choices()
        .iter()
        .map(|h| format!("{}={}", h.family, h.variant))
        .collect();
    assert_eq!(variants, expected);
    assert!(variants.contains(&"linear=tiled".to_string()));
    // The sweep is clamped to the model's 32 positions, and deduplicated.
    let lens: Vec<u64> = report["scaling"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq_len"].as_u64().unwrap())
        .collect();
    assert_eq!(lens, [1, 3, 32]);
    let decode = &report["decode"];
    assert!(decode["gpu_ms"].as_f64().unwrap() > 0.0, "{decode}");
    assert!(decode["bound_ms"].as_f64().unwrap() > 0.0, "{decode}");
    assert!(decode["dispatches"].as_u64().unwrap() > 10, "{decode}");
    assert_eq!(
        decode["capacity"].as_u64(),
        Some(32),
        "the model's positions"
    );
    // How close the step comes to its bound is hardware's business (a tiny model's weights sit
    // in a GPU's cache): `bench` reports it, the test only checks it is a measurement.
    let ratio = decode["gpu_vs_bound"].as_f64().unwrap();
    assert!(ratio > 0.0 && ratio.is_finite(), "{decode}");
    // The step's wall clock is its encoding, submit and wait, each measured.
    let times = &decode["times"];
    let part = |name: &str| times[name].as_f64().unwrap();
    let parts = part("encode_ms") + part("submit_ms") + part("wait_ms");
    assert!(
        parts > 0.0 && (parts - part("total_ms")).abs() <= 1e-6 * part("total_ms").max(1.0),
        "{times}"
    );
    assert_eq!(decode["gpu_ms"], times["total_ms"], "{decode}");
    // lavapipe's timestamps are not trusted: its probes run on the wall clock, and say so.
    assert_eq!(report["gpu_peaks"]["wall_clock"], true);
    assert!(times["gpu_busy_ms"].is_null(), "{times}");
    assert!(report["measurement_errors"].is_array());
}

/// `tune` times every variant of each family with a choice on each op shape (at --seq-len
/// tokens and at one), refuses one that disagrees with the CPU reference, and keeps the fastest
/// that agrees in the tuned file; `bench` then runs those and says why.
#[test]
fn tune_keeps_the_fastest_correct_variant_and_bench_runs_it() {
    let cache = std::env::temp_dir().join(format!("glassbox-tune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let wrong = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernels/wrong");
    let out = glassbox_with_cache(
        &[
            "tune",
            "--model",
            &model(),
            "--seq-len",
            "8",
            "--reps",
            "1",
            "--json",
            "--kernels",
            wrong.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let shapes = report["shapes"].as_array().unwrap();
    let mut tuned = std::collections::BTreeMap::new();
    for shape in shapes {
        let tried = shape["tried"].as_array().unwrap();
        let ok: Vec<(&str, f64)> = tried
            .iter()
            .filter(|t| t["outcome"] == "ok")
            .map(|t| (t["variant"].as_str().unwrap(), t["ms"].as_f64().unwrap()))
            .collect();
        let fastest = ok.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        assert_eq!(shape["chosen"].as_str(), Some(fastest.0), "{shape}");
        if shape["family"] == "gelu" {
            let wrong = tried.iter().find(|t| t["variant"] == "wrong").unwrap();
            assert!(wrong["ms"].is_null(), "{wrong}");
            assert!(
                wrong["outcome"].as_str().unwrap().contains("differs"),
                "{wrong}"
            );
            assert_eq!(shape["chosen"], "default", "{shape}");
        }
        // The 8-token pass comes first: its shapes are the ones bench runs at 8 tokens.
        tuned
            .entry(shape["op"].as_str().unwrap().to_string())
            .or_insert(format!(
                "{}={}",
                shape["family"].as_str().unwrap(),
                fastest.0
            ));
    }
    let families: std::collections::BTreeSet<&str> = shapes
        .iter()
        .map(|s| s["family"].as_str().unwrap())
        .collect();
    for family in ["linear", "logits", "softmax", "layernorm", "gelu"] {
        assert!(families.contains(family), "{families:?}");
    }
    // Both lengths: the 8-token pass and a decode step's one-token linear ops.
    for rows in ["rows: 8,", "rows: 1,"] {
        assert!(
            shapes
                .iter()
                .any(|s| s["family"] == "linear" && s["shape"].as_str().unwrap().contains(rows)),
            "{rows}"
        );
    }
    let file = glassbox::gpu::tuned::TunedFile::load(&cache.join("tuned.json")).unwrap();
    assert_eq!(file.adapters.len(), 1);
    let entries = file.adapters.values().next().unwrap();
    assert_eq!(entries.len(), shapes.len());

    // From now on the tuned variants run: every benchmarked op at 8 tokens whose shape was tuned.
    let report = bench_at_8_tokens(&cache, &[]);
    let mut checked = 0;
    for row in report["kernels"].as_array().unwrap() {
        let op = row["op"].as_str().unwrap();
        let Some(kernel) = tuned.get(op) else {
            continue;
        };
        assert_eq!(row["kernel"].as_str(), Some(kernel.as_str()), "{row}");
        assert_eq!(row["why"], "tuned", "{row}");
        checked += 1;
    }
    assert!(checked >= 5, "{checked} tuned ops in the bench report");
    // Asked for by name beats tuned.
    let report = bench_at_8_tokens(&cache, &["--kernel", "linear=naive"]);
    let linear = report["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["kernel"].as_str().unwrap().starts_with("linear="))
        .unwrap();
    assert_eq!(linear["kernel"], "linear=naive", "{linear}");
    assert_eq!(linear["why"], "asked for", "{linear}");
    std::fs::remove_dir_all(&cache).unwrap();
}

/// `bench --json` of the test model at 8 tokens, one repetition, with the tuned file in `cache`.
fn bench_at_8_tokens(cache: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let args = [
        "bench",
        "--model",
        &model(),
        "--seq-len",
        "8",
        "--reps",
        "1",
        "--seq-lens",
        "1",
        "--json",
    ];
    let out = glassbox_with_cache(&[&args[..], extra].concat(), cache);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// A damaged tuned file is an error that names it, not a silent fallback.
#[test]
fn a_damaged_tuned_file_is_a_clear_error() {
    let cache = std::env::temp_dir().join(format!("glassbox-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("tuned.json"), "{ not json").unwrap();
    let out = glassbox_with_cache(&["check", "--model", &model(), "--ids", "1,2"], &cache);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(
        error.contains("tuned.json") && error.contains("glassbox tune"),
        "{error}"
    );
    std::fs::remove_dir_all(&cache).unwrap();
}

#[test]
fn render_writes_a_png_of_the_requested_size() {
    let path = std::env::temp_dir().join(format!("glassbox-render-{}.png", std::process::id()));
    let path_str = path.display().to_string();
    let out = glassbox(&[
        "render",
        "--size",
        "320x200",
        "--op",
        "h.1.mlp.gelu",
        "--camera",
        "block 1",
        "--out",
        &path_str,
        "--stats",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("readbacks per frame: 0"),
        "{}",
        stdout(&out)
    );
    let image = image::open(&path).unwrap().to_rgb8();
    assert_eq!((image.width(), image.height()), (320, 200));
    // Block 1 is drawn: a blank or nearly blank picture fails (today it covers about 9%).
    let background = *image.get_pixel(0, 0);
    let drawn = image.pixels().filter(|&&p| p != background).count();
    assert!(drawn > 320 * 200 / 20, "{drawn} pixels drawn");

    let out = glassbox(&["render", "--op", "nope", "--out", &path_str]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--op \"nope\": no such op"),
        "{}",
        stderr(&out)
    );
    let out = glassbox(&["render", "--size", "12by7", "--out", &path_str]);
    assert!(stderr(&out).contains("WIDTHxHEIGHT"), "{}", stderr(&out));
}

/// The window opens (under Xvfb on CI), draws frames, makes no readback in steady-state frames
/// and exits cleanly when asked.
#[test]
fn app_opens_draws_and_exits() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "no display: run the tests under xvfb-run (scripts/test.sh does)"
    );
    let out = glassbox(&["view", "--frames", "12"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("frames: 12, readbacks in steady-state frames: 0, devices recreated: 0"),
        "{}",
        stdout(&out)
    );
}

/// A kernel file loaded by the window is checked against the CPU reference at once, and says
/// whether it computes its op.
#[test]
fn the_window_checks_loaded_kernels() {
    let out = glassbox(&["view", "--kernels", "docs/kernels", "--frames", "8"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("linear_unrolled.wgsl: linear agrees with the CPU reference"),
        "{text}"
    );
    let out = glassbox(&[
        "view",
        "--kernels",
        "tests/data/kernels/wrong",
        "--frames",
        "8",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("gelu_wrong.wgsl: gelu DIFFERS from the CPU reference"),
        "{text}"
    );
}

/// The device lost in the middle of a session (as a driver reset or running out of memory
/// loses it): the window opens a new one, restores the session and goes on drawing.
#[test]
fn the_window_survives_a_lost_device() {
    let out = glassbox(&["--frames", "30", "--lose-device-at", "10"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("the GPU device was lost (Destroyed)"),
        "{text}"
    );
    assert!(
        text.contains("frames: 30, readbacks in steady-state frames: 0, devices recreated: 1"),
        "{text}"
    );
}

#[test]
fn generate_sorts_with_the_built_in_scene() {
    for backend in ["gpu", "cpu"] {
        let out = glassbox(&[
            "generate",
            "--prompt",
            "CBABBC",
            "-n",
            "6",
            "--greedy",
            "--backend",
            backend,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "ABBBCC");
    }
    let run = |seed: &str| {
        let out = glassbox(&[
            "generate",
            "--prompt",
            "CAB",
            "-n",
            "3",
            "--temperature",
            "3",
            "--seed",
            seed,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.trim().chars().count(), 3, "three letters: {text}");
        text
    };
    assert_eq!(run("5"), run("5"), "seeded sampling is reproducible");
    let out = glassbox(&["generate", "--prompt", "CBXBBC", "--greedy"]);
    assert!(stderr(&out).contains("'X'"), "{}", stderr(&out));
}

#[test]
fn render_a_walkthrough_chapter() {
    let path = std::env::temp_dir().join(format!("glassbox-chapter-{}.png", std::process::id()));
    let path_str = path.display().to_string();
    let out = glassbox(&[
        "render",
        "--chapter",
        "softmax",
        "--size",
        "640x360",
        "--out",
        &path_str,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(path.exists());
    let out = glassbox(&["render", "--chapter", "nope", "--out", &path_str]);
    assert!(
        stderr(&out).contains("the chapters are tokens, layernorm"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tokenize_prints_json_ids_and_decodes() {
    let out = glassbox(&[
        "tokenize",
        "--tokenizer",
        "gpt2",
        "--text",
        "A transformer reads tokens.",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[32,47385,9743,16326,13]");
    let out = glassbox(&["tokenize", "--decode", "--text", "32,47385,9743,16326,13"]);
    assert_eq!(stdout(&out).trim(), "\"A transformer reads tokens.\"");
}

#[test]
fn render_a_bare_model_folder() {
    let path = std::env::temp_dir().join(format!("glassbox-model-{}.png", std::process::id()));
    let path_str = path.display().to_string();
    let out = glassbox(&[
        "render",
        "--model",
        &model(),
        "--prompt",
        "5,6,7",
        "--size",
        "320x240",
        "--out",
        &path_str,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(path.exists());
}

/// A GPT-2-small-shaped model folder (one layer, random weights) written like a Hugging Face
/// download: text prompts go through GPT-2's tokenizer, `wte` (154 MB) is split on lavapipe, and
/// both backends generate the same tokens.
#[test]
fn generate_from_a_gpt2_shaped_folder_with_text() {
    let mut config = glassbox::model::Config::gpt2_small();
    config.n_layer = 1;
    let model = glassbox::model::Model::random(config.clone(), 3);
    let dir = std::env::temp_dir().join(format!("glassbox-gpt2-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_json()).unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        model.to_safetensors().unwrap(),
    )
    .unwrap();
    let dir_str = dir.display().to_string();
    let run = |backend: &str| {
        let out = glassbox(&[
            "generate",
            "--model",
            &dir_str,
            "--prompt",
            "Hello world",
            "-n",
            "3",
            "--greedy",
            "--backend",
            backend,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let gpu = run("gpu");
    assert!(!gpu.trim().is_empty());
    assert_eq!(gpu, run("cpu"));
    std::fs::remove_dir_all(&dir).unwrap();
}
