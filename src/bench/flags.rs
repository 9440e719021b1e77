//! What a benchmark cannot have measured: a decode step faster than reading its weights allows,
//! an op above the arithmetic peak, a copy kernel far from the driver's own copy. Each is
//! reported as a measurement error beside the tables rather than shown as a speed.

use super::BenchReport;

/// The share by which the copy kernel may trail the driver's copy before the probe is doubted.
const COPY_ENGINE_SLACK: f64 = 0.5;

impl BenchReport {
    /// One line per measurement that breaks a physical limit or disagrees with its cross-check.
    pub fn find_measurement_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let peaks = &self.gpu_peaks;
        if let Some(engine) = peaks.copy_engine_gbs {
            if peaks.bandwidth_gbs < COPY_ENGINE_SLACK * engine {
                errors.push(format!(
                    "the copy probe read {:.1} GB/s where copy_buffer_to_buffer moves {engine:.1} \
                     GB/s: every bound and % copy below is suspect",
                    peaks.bandwidth_gbs
                ));
            }
        }
        for d in [&self.decode, &self.decode_picture] {
            if d.gpu_vs_bound < 1.0 {
                errors.push(format!(
                    "the {} path's decode step took {:.3} ms, under its bound of {:.3} ms \
                     ({:.2}x): no step can read its weights faster than the copy peak, so the \
                     copy peak is too low",
                    d.path, d.gpu_ms, d.bound_ms, d.gpu_vs_bound
                ));
            }
        }
        let ops = self
            .kernels
            .iter()
            .map(|k| (&k.op, &k.kernel, &k.gpu))
            .chain(self.variants.iter().map(|v| (&v.op, &v.kernel, &v.gpu)));
        for (op, kernel, speed) in ops {
            if speed.compute_fraction > 1.0 {
                errors.push(format!(
                    "{op} ({kernel}) ran at {:.0}% of the FMA peak, which no kernel can pass: \
                     its time or the peak is wrong",
                    100.0 * speed.compute_fraction
                ));
            }
        }
        errors
    }
}
