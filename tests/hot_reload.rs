//! Editing exported kernel files: a broken edit is reported with its location and the last good
//! kernel keeps computing; a good edit is picked up; exporting never overwrites a file.

mod common;

use glassbox::gpu::kernels::{export_kernels, KernelId, Loaded};
use glassbox::gpu::watch::{KernelWatcher, Reload};
use glassbox::gpu::GpuOptions;
use glassbox::graph::Graph;
use glassbox::model::Model;
use glassbox::values::compare::compare;

fn gelu_matches_cpu(gpu: &glassbox::gpu::Gpu, registry: &glassbox::gpu::KernelRegistry) -> bool {
    let config = common::config(1, 2, 8, 11, 8);
    let model = Model::random(config.clone(), 3);
    let ids = common::ids(4, 11, 5);
    let graph = Graph::forward(&config, 4);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let (_, values) = common::gpu_forward(gpu, registry, &model, &ids);
    let gelu = graph.tensor_id("h.0.mlp.gelu").unwrap();
    compare(values.get(gelu), reference.get(gelu)).passes()
}

/// Sets a file's contents, and its modification time to `version` seconds after the epoch, so
/// that every edit is seen as a change however coarse the file system's clock is.
fn edit(path: &std::path::Path, text: &str, version: u64) {
    std::fs::write(path, text).unwrap();
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(version);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[test]
fn watch_reports_broken_edits_and_keeps_the_last_good_kernel() {
    let dir = std::env::temp_dir().join(format!("glassbox-kernels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let written = export_kernels(&dir).unwrap();
    assert_eq!(written.len(), glassbox::gpu::kernels::BUILTIN_KERNELS.len());
    // Exported files are self-contained: the softmax carries its reduction helper.
    let softmax = std::fs::read_to_string(dir.join("ops/softmax/workgroup.wgsl")).unwrap();
    assert!(softmax.contains("fn workgroup_max("), "{softmax}");
    assert!(export_kernels(&dir)
        .unwrap_err()
        .to_string()
        .contains("not overwriting"));

    let (gpu, mut registry) = common::gpu(&GpuOptions::default());
    let mut watcher = KernelWatcher::new(&dir);
    let events = watcher.poll(&gpu.device, &mut registry);
    assert!(
        events.is_empty(),
        "unchanged exports reload nothing: {events:?}"
    );

    let path = dir.join("ops/gelu.wgsl");
    let original = std::fs::read_to_string(&path).unwrap();
    edit(
        &path,
        &original.replace("y[i] = 0.5 * v", "y[i] = 0.5 * undefined_name"),
        1,
    );
    let events = watcher.poll(&gpu.device, &mut registry);
    let [Reload::Failed(error)] = events.as_slice() else {
        panic!("expected one failure, got {events:?}");
    };
    assert!(
        error.file.ends_with("gelu.wgsl") && error.line > 1 && error.column > 0,
        "{error}"
    );
    assert!(
        gelu_matches_cpu(&gpu, &registry),
        "the last good gelu still runs"
    );

    // A wrong but valid kernel is picked up (and would light up in a comparison).
    edit(
        &path,
        &original.replace("y[i] = 0.5 * v * (1.0 + tanh(u));", "y[i] = v;"),
        2,
    );
    let events = watcher.poll(&gpu.device, &mut registry);
    let gelu = KernelId::new("gelu", "default");
    assert!(
        matches!(events.as_slice(), [Reload::Loaded(Loaded::Replaced(id))] if *id == gelu),
        "{events:?}"
    );
    assert!(!gelu_matches_cpu(&gpu, &registry), "the edited kernel runs");

    edit(&path, &original, 3);
    watcher.poll(&gpu.device, &mut registry);
    assert!(gelu_matches_cpu(&gpu, &registry));

    // A new file in the folder is a new variant at once.
    let variant = original.replace("// Kernel: gelu/default", "// Kernel: gelu/mine");
    edit(&dir.join("gelu_mine.wgsl"), &variant, 4);
    let events = watcher.poll(&gpu.device, &mut registry);
    let mine = KernelId::new("gelu", "mine");
    assert!(
        matches!(events.as_slice(), [Reload::Loaded(Loaded::Added(id))] if *id == mine),
        "{events:?}"
    );
    assert_eq!(registry.dropped_in("gelu"), Some(mine));
    std::fs::remove_dir_all(&dir).unwrap();
}
