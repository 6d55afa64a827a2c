//! The `drg-scheme/1` data as read from disk (`shared/schemes/FORMAT.md` §7), before compilation.
//! Other crates (the synthetic-region generator, quality control) read the lists through these
//! types; the grouper compiles them into [`crate::Grouper`].

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct RawScheme {
    pub format: String,
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub notes: Vec<String>,
    pub outcomes: RawOutcomes,
    #[serde(default)]
    pub retry_each_procedure: bool,
    pub input_checks: Vec<RawCheck>,
    pub tables: BTreeMap<String, String>,
    pub mdcs: Vec<RawMdc>,
    pub lists: BTreeMap<String, RawList>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawOutcome {
    pub status: String,
    #[serde(default)]
    pub mdc: Option<String>,
    #[serde(default)]
    pub adrg: Option<String>,
    #[serde(default)]
    pub drg: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawOutcomes {
    pub check_failed: RawOutcome,
    pub no_group: RawOutcome,
    pub mdc_without_adrg: RawOutcome,
    pub ambiguous: RawOutcome,
    pub grouped: RawOutcome,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawCheck {
    pub message: String,
    pub fail_when: RawCond,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawMdc {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    pub entry: RawCond,
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RawStep {
    Adrg {
        id: String,
        adrg: String,
        #[serde(default)]
        name: Option<String>,
        entry: RawCond,
        drgs: Vec<RawDrg>,
        #[serde(default)]
        fallback: Option<String>,
    },
    Ambiguous {
        code: String,
        #[serde(default)]
        name: Option<String>,
        when: RawCond,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawDrg {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    pub when: RawCond,
    #[serde(default)]
    pub source: Option<String>,
}

/// A code list: a set of codes, or a tagged list `{code: tag}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawList {
    Codes(Vec<String>),
    Tagged(BTreeMap<String, String>),
}

impl RawList {
    /// The codes of the list (keys of a tagged list).
    pub fn codes(&self) -> Vec<&str> {
        match self {
            RawList::Codes(v) => v.iter().map(String::as_str).collect(),
            RawList::Tagged(m) => m.keys().map(String::as_str).collect(),
        }
    }
}

/// A condition node (FORMAT.md §5).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawCond {
    Const { value: bool },
    And { args: Vec<RawCond> },
    Or { args: Vec<RawCond> },
    Not { arg: Box<RawCond> },
    MainDxIn { list: String },
    AnyDxIn { list: String },
    SecondaryDxIn { list: String },
    MainProcIn { list: String },
    AnyProcIn { list: String },
    SecondaryProcIn { list: String },
    ProcTag { list: String, tag: String },
    DxTagCount { list: String, min: i64 },
    Count { of: String, cmp: String, value: i64 },
    HasMcc {},
    HasCc {},
    Present { field: String },
    Nonzero { field: String },
    Cmp { field: String, cmp: String, value: serde_json::Value },
    InSet { field: String, values: Vec<serde_json::Value> },
}
