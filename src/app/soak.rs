//! The soak test's driver: the window plays, steps, hovers and types by itself for a set time,
//! through the same input paths a user's mouse and keyboard take (egui events), and samples the
//! process's memory and the GPU objects alive at the same point of every cycle. A leak shows as
//! growth from cycle to cycle; churn within a cycle does not.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Frames in one cycle of the script; every cycle ends in the state it started in.
const CYCLE: u64 = 120;
/// Cycles before the first sample: caches (egui's glyph atlas, the driver's) fill up first.
const WARM_UP: usize = 2;

#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub seconds: f64,
    pub rss_mb: f64,
    pub live_gpu_objects: usize,
}

pub struct Soak {
    started: Instant,
    length: Duration,
    frame: u64,
    random: u64,
    samples: Vec<Sample>,
}

/// What the script does in one frame, besides moving the pointer.
pub enum Action {
    Key(egui::Key),
    /// Appends a letter to the prompt (the model runs again on one more token).
    Type,
    /// Removes the letter typed.
    Erase,
    None,
}

impl Soak {
    pub fn new(length: Duration) -> Soak {
        Soak {
            started: Instant::now(),
            length,
            frame: 0,
            random: 0x9e37_79b9_7f4a_7c15,
            samples: Vec::new(),
        }
    }

    pub fn done(&self) -> bool {
        self.started.elapsed() >= self.length
    }

    /// This frame's synthetic input: the pointer somewhere over the model, and the script's key.
    pub fn input(&mut self, scene: egui::Rect) -> (Vec<egui::Event>, Action) {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let (u, v) = (
            (self.random & 0xffff) as f32 / 65535.0,
            ((self.random >> 16) & 0xffff) as f32 / 65535.0,
        );
        let pointer = scene.min + egui::vec2(u * scene.width(), v * scene.height());
        let mut events = vec![egui::Event::PointerMoved(pointer)];
        let action = match self.frame % CYCLE {
            0 | 40 => Action::Key(egui::Key::Space),
            50..=59 => Action::Key(egui::Key::ArrowLeft),
            60..=64 => Action::Key(egui::Key::ArrowRight),
            80 => Action::Type,
            100 => Action::Erase,
            f if f == CYCLE - 1 => Action::Key(egui::Key::End),
            _ => Action::None,
        };
        if let Action::Key(key) = action {
            for pressed in [true, false] {
                events.push(egui::Event::Key {
                    key,
                    physical_key: None,
                    pressed,
                    repeat: false,
                    modifiers: egui::Modifiers::NONE,
                });
            }
        }
        (events, action)
    }

    /// After a frame: at the end of each cycle, a sample.
    pub fn after_frame(&mut self, live_gpu_objects: Option<usize>) {
        if self.frame % CYCLE == CYCLE - 1 {
            self.samples.push(Sample {
                seconds: self.started.elapsed().as_secs_f64(),
                rss_mb: resident_bytes().unwrap_or(0) as f64 / (1 << 20) as f64,
                live_gpu_objects: live_gpu_objects.unwrap_or(0),
            });
        }
        self.frame += 1;
    }

    /// The samples after warm-up, and whether they stay flat: no more live GPU objects at the
    /// end than at the start, and resident memory within 32 MB of where it started.
    pub fn verdict(&self) -> (Vec<Sample>, Result<(), String>) {
        let samples: Vec<Sample> = self.samples.iter().skip(WARM_UP).cloned().collect();
        let [first, .., last] = samples.as_slice() else {
            let needed = WARM_UP + 2;
            let error = format!(
                "too short: {} cycles of {CYCLE} frames, {needed} needed",
                self.samples.len()
            );
            return (samples, Err(error));
        };
        let result = if last.live_gpu_objects > first.live_gpu_objects {
            Err(format!(
                "live GPU objects grew from {} to {}",
                first.live_gpu_objects, last.live_gpu_objects
            ))
        } else if last.rss_mb > first.rss_mb + 32.0 {
            Err(format!(
                "resident memory grew from {:.1} MB to {:.1} MB",
                first.rss_mb, last.rss_mb
            ))
        } else {
            Ok(())
        };
        (samples, result)
    }
}

/// The process's resident memory, from /proc (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
