use std::fmt;

/// A scheme directory that cannot be loaded or compiled. Names the file and, for `scheme.json`,
/// the JSON path of the offending node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeError {
    /// File name inside the scheme directory (or the directory itself).
    pub file: String,
    /// JSON path (`mdcs[3].steps[0].entry.args[1]`) or TSV line (`line 12`); empty when not applicable.
    pub location: String,
    pub message: String,
}

impl SchemeError {
    pub(crate) fn new(file: impl Into<String>, location: impl Into<String>, message: impl Into<String>) -> Self {
        SchemeError { file: file.into(), location: location.into(), message: message.into() }
    }
}

impl fmt::Display for SchemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "分组方案文件 {}：{}", self.file, self.message)
        } else {
            write!(f, "分组方案文件 {} 位置 {}：{}", self.file, self.location, self.message)
        }
    }
}

impl std::error::Error for SchemeError {}
