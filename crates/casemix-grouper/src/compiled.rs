//! The compiled form of a scheme: interned codes, bit sets, dense per-code tables. Built once by
//! [`crate::Grouper::compile`]; read-only afterwards (hence `Send + Sync`).

use crate::error::SchemeError;
use crate::raw::{RawCond, RawList, RawScheme, RawStep};
use rustc_hash::FxHashMap;

/// "No such code / no entry" in the dense tables.
pub(crate) const NONE: u32 = u32::MAX;

/// A set of code ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub(crate) fn insert(&mut self, i: u32) {
        let w = (i >> 6) as usize;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1u64 << (i & 63);
    }
    #[inline]
    pub(crate) fn contains(&self, i: u32) -> bool {
        let w = (i >> 6) as usize;
        match self.words.get(w) {
            Some(x) => (x >> (i & 63)) & 1 == 1,
            None => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn parse(s: &str) -> Option<CmpOp> {
        Some(match s {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }
    #[inline]
    pub(crate) fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
    pub(crate) fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A record field a condition reads (FORMAT.md §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    Sex,
    AgeYears,
    AgeDays,
    BirthWeightG,
    LosDays,
    LeavingType,
    IcuHours,
    Dept,
}

impl RecordField {
    fn parse(s: &str) -> Option<RecordField> {
        Some(match s {
            "sex" => RecordField::Sex,
            "age_years" => RecordField::AgeYears,
            "age_days" => RecordField::AgeDays,
            "birth_weight_g" => RecordField::BirthWeightG,
            "los_days" => RecordField::LosDays,
            "leaving_type" => RecordField::LeavingType,
            "icu_hours" => RecordField::IcuHours,
            "dept" => RecordField::Dept,
            _ => return None,
        })
    }
    pub fn key(self) -> &'static str {
        match self {
            RecordField::Sex => "sex",
            RecordField::AgeYears => "age_years",
            RecordField::AgeDays => "age_days",
            RecordField::BirthWeightG => "birth_weight_g",
            RecordField::LosDays => "los_days",
            RecordField::LeavingType => "leaving_type",
            RecordField::IcuHours => "icu_hours",
            RecordField::Dept => "dept",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RecordField::Sex => "性别",
            RecordField::AgeYears => "年龄(岁)",
            RecordField::AgeDays => "年龄(天)",
            RecordField::BirthWeightG => "新生儿出生体重(克)",
            RecordField::LosDays => "实际住院天数",
            RecordField::LeavingType => "离院方式",
            RecordField::IcuHours => "重症监护时长(小时)",
            RecordField::Dept => "出院科别",
        }
    }
    /// Integer literals of `icu_hours` are scaled to hundredths, as the record holds them.
    pub(crate) fn scale(self) -> i64 {
        if self == RecordField::IcuHours {
            100
        } else {
            1
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Main,
    Any,
    Secondary,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Const(bool),
    And(Box<[Cond]>),
    Or(Box<[Cond]>),
    Not(Box<Cond>),
    DxIn(Which, u32),
    ProcIn(Which, u32),
    DxTagCount { map: u32, min: i64 },
    Count { procedures: bool, op: CmpOp, value: i64 },
    HasMcc,
    HasCc,
    Present(RecordField),
    Nonzero(RecordField),
    CmpInt { field: RecordField, op: CmpOp, value: i64 },
    CmpStr { op: CmpOp, value: Box<str> },
    InSetInt { field: RecordField, values: Box<[i64]> },
    InSetStr { values: Box<[Box<str>]> },
}

pub(crate) struct NamedSet {
    pub name: String,
    pub set: BitSet,
}

pub(crate) struct TagMap {
    pub name: String,
    pub tags: FxHashMap<u32, u16>,
    pub tag_names: Vec<String>,
}

/// What a produced code maps to (FORMAT.md §3), precomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 分组成功
    Grouped,
    /// 歧义病案 (xQY)
    Ambiguous,
    /// 无法入组: no MDC produced a code
    NoGroup,
    /// 无法入组: a code with `00` at positions 2–3
    MdcWithoutAdrg,
    /// 信息校验不通过: input check number `n` (0-based) failed
    CheckFailed(usize),
    /// A comparison met a missing field: the record cannot be grouped (reported like a failed check)
    EvalError(RecordField),
    /// 诊断不能转换为分组器支持的编码 (code translation on)
    DxNotTranslatable,
    /// 手术操作不能转换为分组器支持的编码 (code translation on)
    ProcNotTranslatable,
}

#[derive(Debug, Clone)]
pub(crate) struct ResultCode {
    pub outcome: Outcome,
    pub status: Box<str>,
    pub mdc: Box<str>,
    pub adrg: Box<str>,
    pub drg: Box<str>,
    pub name: Box<str>,
}

pub(crate) struct Mdc {
    pub code: String,
    pub name: String,
    pub entry: Cond,
    pub steps: Vec<Step>,
}

pub(crate) enum Step {
    Adrg { id: String, adrg: String, name: String, entry: Cond, drgs: Vec<(u32, Cond)>, fallback: Option<u32> },
    Ambiguous { code: u32, when: Cond },
}

pub(crate) struct Compiled {
    pub mdcs: Vec<Mdc>,
    pub checks: Vec<(String, Cond)>,
    pub codes: FxHashMap<Box<str>, u32>,
    pub sets: Vec<NamedSet>,
    pub tagmaps: Vec<TagMap>,
    /// Per code id: interned exclusion-table id of the MCC row, NONE when not an MCC.
    pub mcc: Vec<u32>,
    pub cc: Vec<u32>,
    /// Per code id: exclusion-table id when the code is a principal of `cc_exclusion.tsv`.
    pub cc_excl: Vec<u32>,
    pub excl_strs: Vec<Box<str>>,
    pub empty_excl: u32,
    pub results: Vec<ResultCode>,
    pub no_group: u32,
}

/// Parsed TSV tables handed to the compiler.
pub(crate) struct Tables {
    pub mcc: Vec<(String, String)>,
    pub cc: Vec<(String, String)>,
    pub cc_exclusion: Vec<(String, String)>,
    pub or_procedures: Vec<String>,
    pub drg_names: FxHashMap<String, String>,
}

struct Ctx<'a> {
    raw: &'a RawScheme,
    codes: FxHashMap<Box<str>, u32>,
    code_strs: Vec<Box<str>>,
    sets: Vec<NamedSet>,
    set_ix: FxHashMap<String, u32>,
    tagmaps: Vec<TagMap>,
    tag_ix: FxHashMap<String, u32>,
    path: Vec<String>,
    or_procedures: &'a [String],
    results: Vec<ResultCode>,
    result_ix: FxHashMap<String, u32>,
    drg_names: &'a FxHashMap<String, String>,
}

fn err_at(path: &[String], msg: impl Into<String>) -> SchemeError {
    SchemeError::new("scheme.json", path.concat(), msg)
}

impl<'a> Ctx<'a> {
    fn intern(&mut self, code: &str) -> u32 {
        if let Some(&i) = self.codes.get(code) {
            return i;
        }
        let i = self.code_strs.len() as u32;
        self.code_strs.push(code.into());
        self.codes.insert(code.into(), i);
        i
    }

    fn err(&self, msg: impl Into<String>) -> SchemeError {
        err_at(&self.path, msg)
    }

    fn plain_set(&mut self, list: &str) -> Result<u32, SchemeError> {
        if let Some(&i) = self.set_ix.get(list) {
            return Ok(i);
        }
        let codes: Vec<String> = if list == "@or_procedures" {
            self.or_procedures.to_vec()
        } else {
            match self.raw.lists.get(list) {
                Some(l) => l.codes().into_iter().map(str::to_string).collect(),
                None => return Err(self.err(format!("引用了不存在的代码列表 '{list}' (unknown list)"))),
            }
        };
        let mut set = BitSet::default();
        for c in &codes {
            let id = self.intern(c);
            set.insert(id);
        }
        let i = self.sets.len() as u32;
        self.sets.push(NamedSet { name: list.to_string(), set });
        self.set_ix.insert(list.to_string(), i);
        Ok(i)
    }

    fn tagged(&self, list: &str) -> Result<&'a std::collections::BTreeMap<String, String>, SchemeError> {
        match self.raw.lists.get(list) {
            Some(RawList::Tagged(m)) => Ok(m),
            Some(RawList::Codes(_)) => Err(self.err(format!("代码列表 '{list}' 不是带标签列表 (tagged list expected)"))),
            None => Err(self.err(format!("引用了不存在的代码列表 '{list}' (unknown list)"))),
        }
    }

    fn tag_set(&mut self, list: &str, tag: &str) -> Result<u32, SchemeError> {
        let key = format!("{list}[标签={tag}]");
        if let Some(&i) = self.set_ix.get(&key) {
            return Ok(i);
        }
        let m = self.tagged(list)?;
        let mut set = BitSet::default();
        for (c, t) in m {
            let id = self.intern(c);
            if t == tag {
                set.insert(id);
            }
        }
        let i = self.sets.len() as u32;
        self.sets.push(NamedSet { name: key.clone(), set });
        self.set_ix.insert(key, i);
        Ok(i)
    }

    fn tag_map(&mut self, list: &str) -> Result<u32, SchemeError> {
        if let Some(&i) = self.tag_ix.get(list) {
            return Ok(i);
        }
        let m = self.tagged(list)?;
        let mut tag_names: Vec<String> = Vec::new();
        let mut tags = FxHashMap::default();
        for (c, t) in m {
            let ti = match tag_names.iter().position(|x| x == t) {
                Some(p) => p,
                None => {
                    tag_names.push(t.clone());
                    tag_names.len() - 1
                }
            };
            let id = self.intern(c);
            tags.insert(id, ti as u16);
        }
        let i = self.tagmaps.len() as u32;
        self.tagmaps.push(TagMap { name: list.to_string(), tags, tag_names });
        self.tag_ix.insert(list.to_string(), i);
        Ok(i)
    }

    fn field(&self, f: &str) -> Result<RecordField, SchemeError> {
        RecordField::parse(f).ok_or_else(|| self.err(format!("未知字段 '{f}' (unknown field)")))
    }

    fn op(&self, s: &str) -> Result<CmpOp, SchemeError> {
        CmpOp::parse(s).ok_or_else(|| self.err(format!("未知比较运算符 '{s}' (unknown cmp)")))
    }

    fn int_lit(&self, f: RecordField, v: &serde_json::Value) -> Result<i64, SchemeError> {
        v.as_i64()
            .and_then(|x| x.checked_mul(f.scale()))
            .ok_or_else(|| self.err(format!("字段 {} 的比较值必须是整数，实际为 {v}", f.key())))
    }

    fn str_lit(&self, v: &serde_json::Value) -> Result<Box<str>, SchemeError> {
        v.as_str().map(Into::into).ok_or_else(|| self.err(format!("字段 dept 的比较值必须是字符串，实际为 {v}")))
    }

    fn args(&mut self, args: &[RawCond]) -> Result<Box<[Cond]>, SchemeError> {
        if args.is_empty() {
            return Err(self.err("and/or 的 args 不能为空"));
        }
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            self.path.push(format!(".args[{i}]"));
            out.push(self.cond(a)?);
            self.path.pop();
        }
        Ok(out.into_boxed_slice())
    }

    fn cond(&mut self, c: &RawCond) -> Result<Cond, SchemeError> {
        use RawCond as R;
        Ok(match c {
            R::Const { value } => Cond::Const(*value),
            R::And { args } => Cond::And(self.args(args)?),
            R::Or { args } => Cond::Or(self.args(args)?),
            R::Not { arg } => {
                self.path.push(".arg".into());
                let inner = self.cond(arg)?;
                self.path.pop();
                Cond::Not(Box::new(inner))
            }
            R::MainDxIn { list } => Cond::DxIn(Which::Main, self.plain_set(list)?),
            R::AnyDxIn { list } => Cond::DxIn(Which::Any, self.plain_set(list)?),
            R::SecondaryDxIn { list } => Cond::DxIn(Which::Secondary, self.plain_set(list)?),
            R::MainProcIn { list } => Cond::ProcIn(Which::Main, self.plain_set(list)?),
            R::AnyProcIn { list } => Cond::ProcIn(Which::Any, self.plain_set(list)?),
            R::SecondaryProcIn { list } => Cond::ProcIn(Which::Secondary, self.plain_set(list)?),
            R::ProcTag { list, tag } => Cond::ProcIn(Which::Any, self.tag_set(list, tag)?),
            R::DxTagCount { list, min } => Cond::DxTagCount { map: self.tag_map(list)?, min: *min },
            R::Count { of, cmp, value } => {
                let procedures = match of.as_str() {
                    "diagnoses" => false,
                    "procedures" => true,
                    _ => return Err(self.err(format!("count 的 of 必须是 diagnoses 或 procedures，实际为 '{of}'"))),
                };
                Cond::Count { procedures, op: self.op(cmp)?, value: *value }
            }
            R::HasMcc {} => Cond::HasMcc,
            R::HasCc {} => Cond::HasCc,
            R::Present { field } => Cond::Present(self.field(field)?),
            R::Nonzero { field } => Cond::Nonzero(self.field(field)?),
            R::Cmp { field, cmp, value } => {
                let f = self.field(field)?;
                let op = self.op(cmp)?;
                if f == RecordField::Dept {
                    Cond::CmpStr { op, value: self.str_lit(value)? }
                } else {
                    Cond::CmpInt { field: f, op, value: self.int_lit(f, value)? }
                }
            }
            R::InSet { field, values } => {
                let f = self.field(field)?;
                if f == RecordField::Dept {
                    Cond::InSetStr { values: values.iter().map(|v| self.str_lit(v)).collect::<Result<_, _>>()? }
                } else {
                    Cond::InSetInt { field: f, values: values.iter().map(|v| self.int_lit(f, v)).collect::<Result<_, _>>()? }
                }
            }
        })
    }

    /// Interns a produced code with its §3 mapping.
    fn result_code(&mut self, code: &str, name_hint: Option<&str>) -> u32 {
        if let Some(&i) = self.result_ix.get(code) {
            return i;
        }
        let o = &self.raw.outcomes;
        let chars: Vec<char> = code.chars().collect();
        let mid: String = chars.iter().skip(1).take(2).collect();
        let first: String = chars.iter().take(1).collect();
        let name = self
            .drg_names
            .get(code)
            .map(String::as_str)
            .or(name_hint)
            .unwrap_or("")
            .into();
        let rc = if code == "0000" {
            ResultCode {
                outcome: Outcome::NoGroup,
                status: o.no_group.status.as_str().into(),
                mdc: o.no_group.mdc.as_deref().unwrap_or("").into(),
                adrg: o.no_group.adrg.as_deref().unwrap_or("").into(),
                drg: o.no_group.drg.as_deref().unwrap_or("").into(),
                name: "".into(),
            }
        } else if mid == "00" {
            ResultCode {
                outcome: Outcome::MdcWithoutAdrg,
                status: o.mdc_without_adrg.status.as_str().into(),
                mdc: format!("MDC{first}").into(),
                adrg: o.mdc_without_adrg.adrg.as_deref().unwrap_or("").into(),
                drg: o.mdc_without_adrg.drg.as_deref().unwrap_or("").into(),
                name: "".into(),
            }
        } else if mid == "QY" {
            ResultCode {
                outcome: Outcome::Ambiguous,
                status: o.ambiguous.status.as_str().into(),
                mdc: format!("MDC{first}").into(),
                adrg: "QY".into(),
                drg: code.into(),
                name,
            }
        } else {
            ResultCode {
                outcome: Outcome::Grouped,
                status: o.grouped.status.as_str().into(),
                mdc: format!("MDC{first}").into(),
                adrg: chars.iter().take(3).collect::<String>().into(),
                drg: code.into(),
                name,
            }
        };
        let i = self.results.len() as u32;
        self.results.push(rc);
        self.result_ix.insert(code.to_string(), i);
        i
    }
}

fn dense(n: usize, rows: &[(String, String)], codes: &FxHashMap<Box<str>, u32>, excl: &mut FxHashMap<String, u32>, excl_strs: &mut Vec<Box<str>>) -> Vec<u32> {
    let mut v = vec![NONE; n];
    for (c, t) in rows {
        if let Some(&id) = codes.get(c.as_str()) {
            let tid = match excl.get(t) {
                Some(&x) => x,
                None => {
                    let x = excl_strs.len() as u32;
                    excl_strs.push(t.as_str().into());
                    excl.insert(t.clone(), x);
                    x
                }
            };
            v[id as usize] = tid;
        }
    }
    v
}

pub(crate) fn compile(raw: &RawScheme, t: &Tables) -> Result<Compiled, SchemeError> {
    if raw.format != "drg-scheme/1" {
        return Err(SchemeError::new("scheme.json", ".format", format!("不支持的方案格式 '{}'，应为 drg-scheme/1", raw.format)));
    }
    let mut cx = Ctx {
        raw,
        codes: FxHashMap::default(),
        code_strs: Vec::new(),
        sets: Vec::new(),
        set_ix: FxHashMap::default(),
        tagmaps: Vec::new(),
        tag_ix: FxHashMap::default(),
        path: Vec::new(),
        or_procedures: &t.or_procedures,
        results: Vec::new(),
        result_ix: FxHashMap::default(),
        drg_names: &t.drg_names,
    };
    // complication tables take part in the code universe
    for (c, _) in t.mcc.iter().chain(&t.cc).chain(&t.cc_exclusion) {
        cx.intern(c);
    }
    let no_group = cx.result_code("0000", None);
    let mut checks = Vec::new();
    for (i, c) in raw.input_checks.iter().enumerate() {
        cx.path = vec![format!("input_checks[{i}].fail_when")];
        checks.push((c.message.clone(), cx.cond(&c.fail_when)?));
    }
    let mut mdcs = Vec::new();
    for (mi, m) in raw.mdcs.iter().enumerate() {
        cx.path = vec![format!("mdcs[{mi}].entry")];
        let entry = cx.cond(&m.entry)?;
        let mut steps = Vec::new();
        for (si, s) in m.steps.iter().enumerate() {
            match s {
                RawStep::Adrg { id, adrg, name, entry, drgs, fallback } => {
                    cx.path = vec![format!("mdcs[{mi}].steps[{si}].entry")];
                    let e = cx.cond(entry)?;
                    let mut ds = Vec::new();
                    for (di, d) in drgs.iter().enumerate() {
                        cx.path = vec![format!("mdcs[{mi}].steps[{si}].drgs[{di}].when")];
                        let w = cx.cond(&d.when)?;
                        ds.push((cx.result_code(&d.code, d.name.as_deref()), w));
                    }
                    let fb = fallback.as_deref().map(|f| cx.result_code(f, name.as_deref()));
                    steps.push(Step::Adrg {
                        id: id.clone(),
                        adrg: adrg.clone(),
                        name: name.clone().unwrap_or_default(),
                        entry: e,
                        drgs: ds,
                        fallback: fb,
                    });
                }
                RawStep::Ambiguous { code, name, when } => {
                    cx.path = vec![format!("mdcs[{mi}].steps[{si}].when")];
                    let w = cx.cond(when)?;
                    steps.push(Step::Ambiguous { code: cx.result_code(code, name.as_deref()), when: w });
                }
            }
        }
        mdcs.push(Mdc { code: m.code.clone(), name: m.name.clone().unwrap_or_default(), entry, steps });
    }
    let n = cx.code_strs.len();
    let mut excl = FxHashMap::default();
    let mut excl_strs = Vec::new();
    let mcc = dense(n, &t.mcc, &cx.codes, &mut excl, &mut excl_strs);
    let cc = dense(n, &t.cc, &cx.codes, &mut excl, &mut excl_strs);
    let cc_excl = dense(n, &t.cc_exclusion, &cx.codes, &mut excl, &mut excl_strs);
    let empty_excl = match excl.get("") {
        Some(&x) => x,
        None => {
            excl_strs.push("".into());
            (excl_strs.len() - 1) as u32
        }
    };
    Ok(Compiled {
        mdcs,
        checks,
        codes: cx.codes,
        sets: cx.sets,
        tagmaps: cx.tagmaps,
        mcc,
        cc,
        cc_excl,
        excl_strs,
        empty_excl,
        results: cx.results,
        no_group,
    })
}
