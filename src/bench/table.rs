//! `glassbox bench`'s report as a plain-text table.

use super::BenchReport;

impl BenchReport {
    /// The report as a plain-text table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let p = |s: &mut String, line: String| {
            s.push_str(&line);
            s.push('\n');
        };
        p(
            &mut s,
            format!(
                "device: {} (GPU times: {}, {} storage)",
                self.device, self.gpu_timing, self.precision
            ),
        );
        p(
            &mut s,
            format!("model: {}, {} tokens", self.model, self.seq_len),
        );
        let gpu = &self.gpu_peaks;
        let timed_by = if gpu.wall_clock {
            "wall clock around a submit and wait: a CPU adapter's timestamps are not trusted"
        } else {
            "timestamps over 8 launches in one pass"
        };
        p(&mut s, format!(
            "peaks  GPU: {:.1} GB/s copy, {:.1} GFLOP/s fma ({timed_by})   CPU: {:.1} GB/s copy (1 thread), {:.1} GFLOP/s sgemm",
            gpu.bandwidth_gbs, gpu.gflops, self.cpu_peaks.bandwidth_gbs, self.cpu_peaks.gflops
        ));
        if let Some(engine) = gpu.copy_engine_gbs {
            p(
                &mut s,
                format!("       copy_buffer_to_buffer on the same bytes: {engine:.1} GB/s"),
            );
        }
        if let Some(datasheet) = gpu.datasheet_gflops {
            p(
                &mut s,
                format!(
                    "       FP32 datasheet: {datasheet:.0} GFLOP/s; the FMA probe reached {:.0}%",
                    100.0 * gpu.gflops / datasheet
                ),
            );
        }
        p(
            &mut s,
            "ops of one block, timed inside whole passes (one timestamped pass per op):"
                .to_string(),
        );
        p(
            &mut s,
            format!(
                "{:<22} {:<20} {:<24} | {:>9} {:>9} {:>8} {:>6} {:>6} | {:>9} {:>9} {:>8} {:>6} {:>6}",
                "op",
                "kernel",
                "why",
                "gpu ms",
                "GFLOP/s",
                "GB/s",
                "%fma",
                "%copy",
                "cpu ms",
                "GFLOP/s",
                "GB/s",
                "%gemm",
                "%copy"
            ),
        );
        for k in &self.kernels {
            p(&mut s, format!(
                "{:<22} {:<20} {:<24} | {:>9.4} {:>9.2} {:>8.2} {:>5.1}% {:>5.1}% | {:>9.4} {:>9.2} {:>8.2} {:>5.1}% {:>5.1}%",
                k.op, k.kernel, k.why,
                k.gpu.ms, k.gpu.gflops, k.gpu.gbs, 100.0 * k.gpu.compute_fraction, 100.0 * k.gpu.bandwidth_fraction,
                k.cpu.ms, k.cpu.gflops, k.cpu.gbs, 100.0 * k.cpu.compute_fraction, 100.0 * k.cpu.bandwidth_fraction,
            ));
        }
        p(
            &mut s,
            format!(
                "kernel variants (GPU, first op of each family, the op alone, {} launch(es) back \
                 to back in one pass: its operands stay in cache where they fit, so a small op \
                 can run faster than inside a pass):",
                self.variant_launches
            ),
        );
        for v in &self.variants {
            p(&mut s, format!(
                "  {:<10} {:<10} {:<16} {:>9.4} ms {:>9.2} GFLOP/s {:>8.2} GB/s {:>5.1}% fma {:>5.1}% copy  ({})",
                v.family, v.variant, v.op, v.gpu.ms, v.gpu.gflops, v.gpu.gbs,
                100.0 * v.gpu.compute_fraction, 100.0 * v.gpu.bandwidth_fraction, v.about
            ));
        }
        p(
            &mut s,
            format!(
                "forward pass: GPU {:.2} ms, CPU {:.2} ms (GPU/CPU speed-up {:.2}x)",
                self.forward.gpu_ms,
                self.forward.cpu_ms,
                self.forward.cpu_ms / self.forward.gpu_ms
            ),
        );
        for row in &self.scaling {
            p(
                &mut s,
                format!(
                    "forward pass, {:>4} tokens: GPU {:>10.2} ms (fast path {:.2} ms), CPU {:>10.2} ms",
                    row.seq_len, row.gpu_ms, row.gpu_fast_ms, row.cpu_ms
                ),
            );
        }
        for d in [&self.decode, &self.decode_picture] {
            p(&mut s, format!(
                "decode step, {} path, at position {} (cache of {}, {} dispatches): GPU {:.2} ms ({:.1} tokens/s), CPU {:.2} ms; bound {:.2} ms ({:.1} MB of weights at {:.1} GB/s): GPU at {:.2}x the bound",
                d.path, d.position, d.capacity, d.dispatches, d.gpu_ms, d.tokens_per_second, d.cpu_ms, d.bound_ms,
                d.weight_bytes as f64 / 1e6, self.gpu_peaks.bandwidth_gbs, d.gpu_vs_bound
            ));
            let t = &d.times;
            let busy = t.gpu_busy_ms.map_or(String::new(), |ms| {
                format!("; the GPU busy {ms:.3} ms of it")
            });
            p(&mut s, format!(
                "  where its {:.3} ms go: encoding {:.3} ms, submit {:.3} ms, waiting {:.3} ms{busy}",
                t.total_ms, t.encode_ms, t.submit_ms, t.wait_ms
            ));
        }
        for error in &self.measurement_errors {
            p(&mut s, format!("MEASUREMENT ERROR: {error}"));
        }
        s
    }
}
