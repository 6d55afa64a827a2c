//! Explanation traces: every decision of the grouper as a Chinese line, nested by depth.

use serde::Serialize;

/// Receives trace lines. The hot path uses [`NoTrace`], whose calls compile to nothing.
pub trait Tracer {
    const ON: bool;
    fn line(&mut self, depth: usize, text: String);
    fn mark(&self) -> usize;
    fn truncate(&mut self, mark: usize);
}

/// No tracing (the default, zero cost).
pub struct NoTrace;

impl Tracer for NoTrace {
    const ON: bool = false;
    #[inline(always)]
    fn line(&mut self, _: usize, _: String) {}
    #[inline(always)]
    fn mark(&self) -> usize {
        0
    }
    #[inline(always)]
    fn truncate(&mut self, _: usize) {}
}

/// One line of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceLine {
    pub depth: usize,
    pub text: String,
}

/// The explanation of one grouping, in Chinese.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub lines: Vec<TraceLine>,
}

impl Tracer for Trace {
    const ON: bool = true;
    fn line(&mut self, depth: usize, text: String) {
        self.lines.push(TraceLine { depth, text });
    }
    fn mark(&self) -> usize {
        self.lines.len()
    }
    fn truncate(&mut self, mark: usize) {
        self.lines.truncate(mark)
    }
}

impl Trace {
    /// The trace as indented text, one line per decision.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            for _ in 0..l.depth {
                s.push_str("  ");
            }
            s.push_str(&l.text);
            s.push('\n');
        }
        s
    }
    /// The trace on one line (for a CSV column): lines joined by ` → `… with depth dropped.
    pub fn to_single_line(&self) -> String {
        self.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("；")
    }
}
