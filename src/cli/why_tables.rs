//! The "why" commands' reports as tables for a terminal (`--json` prints them whole).

use std::fmt::Write;

use crate::why::attribution::AttributionReport;
use crate::why::embedding::EmbeddingReport;
use crate::why::heads::HeadsReport;
use crate::why::lens::LensReport;
use crate::why::neighbors::NeighborsReport;
use crate::why::patch::PatchReport;

pub fn lens(report: &LensReport) -> String {
    let mut out = String::from("logit lens: the most likely next token per layer (rows) and position (columns), with its probability\n");
    for layer in &report.layers {
        let _ = write!(out, "layer {:>3} ", layer.layer);
        for position in &layer.positions {
            let best = &position.top[0];
            let _ = write!(out, " {:>6}:{:.2}", best.id, best.prob);
        }
        out.push('\n');
    }
    out
}

pub fn heads(report: &HeadsReport) -> String {
    let mut out = format!(
        "{:>5} {:>4} {:>10} {:>10} {:>10} {:>10}\n",
        "layer", "head", "previous", "first", "diagonal", "induction"
    );
    for layer in &report.layers {
        for h in &layer.heads {
            let _ = writeln!(
                out,
                "{:>5} {:>4} {:>10.4} {:>10.4} {:>10.4} {:>10.4}",
                layer.layer, h.head, h.previous_token, h.first_token, h.diagonal, h.induction
            );
        }
    }
    out
}

pub fn attribution(report: &AttributionReport) -> String {
    let mut out = format!(
        "direct logit attribution of token {} at position {}: logit {:.4}, terms sum to {:.4}\n",
        report.token, report.position, report.logit, report.total
    );
    for term in &report.terms {
        let _ = writeln!(out, "{:<20} {:>10.4}", term.name, term.value);
    }
    out
}

pub fn neighbors(report: &NeighborsReport) -> String {
    let mut out = format!("{:>4} {:>8} {:>8}\n", "rank", "token", "cosine");
    for (rank, n) in report.neighbors.iter().enumerate() {
        let _ = writeln!(out, "{:>4} {:>8} {:>8.4}", rank + 1, n.id, n.cosine);
    }
    out
}

pub fn patch(report: &PatchReport) -> String {
    let mut out = format!(
        "patching {:?} (columns: {}); logit[{}] - logit[{}]: clean {:.4}, corrupted {:.4}; recovery per cell\n",
        report.site,
        report.columns,
        report.answer,
        report.wrong,
        report.clean_logit_diff,
        report.corrupt_logit_diff
    );
    for row in &report.layers {
        let _ = write!(out, "layer {:>3} ", row.layer);
        for r in &row.recovery {
            let _ = write!(out, " {r:>6.2}");
        }
        out.push('\n');
    }
    out
}

pub fn embedding(report: &EmbeddingReport) -> String {
    let [a, b, c] = report.explained.map(|e| 100.0 * e);
    let mut out =
        format!("principal components explain {a:.1}%, {b:.1}%, {c:.1}% of the tokens' variance\n");
    for (id, p) in report.tokens.iter().zip(&report.points) {
        let _ = writeln!(
            out,
            "token {id:>8} {:>8.4} {:>8.4} {:>8.4}",
            p[0], p[1], p[2]
        );
    }
    for (position, path) in report.paths.iter().enumerate() {
        let _ = write!(out, "position {position:>3}:");
        for p in path {
            let _ = write!(out, " ({:.2}, {:.2}, {:.2})", p[0], p[1], p[2]);
        }
        out.push('\n');
    }
    out
}
