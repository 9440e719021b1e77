//! A progress bar on the terminal for loading a model: one bar per stage (reading the file,
//! decoding the weights, uploading them to the GPU). Drawn only when stderr is a terminal, so
//! scripts and tests see nothing.

use indicatif::{ProgressBar, ProgressStyle};

/// A reporter for [`crate::model::Model::load_dir_with`] and
/// [`crate::gpu::GpuModel::upload_with`].
#[derive(Default)]
pub struct LoadBar {
    bar: Option<(String, ProgressBar)>,
}

impl LoadBar {
    /// Moves the bar of `stage` to `done` of `total` bytes; a new stage starts a new bar.
    pub fn update(&mut self, stage: &str, done: u64, total: u64) {
        if self
            .bar
            .as_ref()
            .is_none_or(|(current, _)| current != stage)
        {
            let bar = ProgressBar::new(total).with_message(stage.to_string());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>24} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            self.bar = Some((stage.to_string(), bar));
        }
        let (_, bar) = self.bar.as_ref().expect("set above");
        bar.set_position(done);
        if done >= total {
            bar.finish_and_clear();
        }
    }
}

/// A bar counting the frames of a film as they are drawn (hidden when stderr is no terminal).
pub fn frames_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total).with_message("recording");
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} frames, {eta} left")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}
