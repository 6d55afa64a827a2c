//! # casemix-grouper
//!
//! A DRG grouper driven entirely by data in the `drg-scheme/1` format
//! (`shared/schemes/FORMAT.md`). [`Grouper::from_dir`] loads and compiles a scheme directory;
//! [`Grouper::group`] maps one case to `(status, mdc, adrg, drg)` exactly like OpenDRG;
//! [`Grouper::explain`] also returns the Chinese explanation trace.
//!
//! Compiled structures: every code in the scheme's lists and complication tables is interned to
//! a `u32`; lists are bit sets over those ids; MCC/CC/exclusion tables are dense arrays. Grouping a
//! record interns its codes once (one hash lookup each) and then evaluates conditions with bit
//! tests only. The grouper is immutable after loading, hence `Send + Sync`.
//!
//! The only I/O is [`Grouper::from_dir`] (reading the files); [`Grouper::compile`] takes their
//! contents and is pure.

mod compiled;
mod error;
mod eval;
pub mod raw;
mod trace;

pub use compiled::{Outcome, RecordField};
pub use error::SchemeError;
pub use trace::{NoTrace, Trace, TraceLine, Tracer};

use casemix_model::GroupInput;
use compiled::{compile, Compiled, Tables, NONE};
use eval::Enc;
use raw::RawScheme;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::path::Path;

/// The result of grouping one case; strings borrow from the grouper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupResult<'g> {
    pub outcome: Outcome,
    /// 分组成功 / 歧义病案 / 无法入组 / 信息校验不通过 (the scheme's outcome strings)
    pub status: &'g str,
    pub mdc: &'g str,
    pub adrg: &'g str,
    pub drg: &'g str,
    /// DRG name (drg_names.tsv), empty when not grouped.
    pub drg_name: &'g str,
    /// Why the case was not grouped (input check message or evaluation error), empty otherwise.
    pub message: &'g str,
}

impl GroupResult<'_> {
    /// Reached a DRG (分组成功).
    pub fn is_grouped(&self) -> bool {
        self.outcome == Outcome::Grouped
    }
}

/// The files of a scheme directory, as text (see FORMAT.md §1).
#[derive(Debug, Clone, Default)]
pub struct SchemeFiles {
    pub scheme_json: String,
    /// Table name (`mcc`, `cc`, …, as in `scheme.json` → `tables`) → (file name, content).
    pub tables: FxHashMap<String, (String, String)>,
}

/// Names, version maps and other display data, not used by the grouping logic.
#[derive(Debug, Default)]
pub struct Dictionaries {
    pub diagnosis_names: FxHashMap<Box<str>, Box<str>>,
    pub procedure_names: FxHashMap<Box<str>, Box<str>>,
    pub diagnosis_map: FxHashMap<Box<str>, Box<str>>,
    pub procedure_map: FxHashMap<Box<str>, Box<str>>,
    pub drg_names: FxHashMap<Box<str>, Box<str>>,
}

/// A compiled grouping scheme.
pub struct Grouper {
    id: String,
    title: String,
    retry_each_procedure: bool,
    translate_codes: bool,
    c: Compiled,
    check_failed: [Box<str>; 4],
    checks_msgs: Vec<Box<str>>,
    dicts: Dictionaries,
    raw: RawScheme,
}

const REQUIRED_TABLES: [&str; 9] =
    ["mcc", "cc", "cc_exclusion", "or_procedures", "diagnosis_names", "procedure_names", "diagnosis_map", "procedure_map", "drg_names"];

fn parse_tsv(file: &str, content: &str, cols: usize, header: &[&str]) -> Result<Vec<Vec<String>>, SchemeError> {
    let mut lines = content.split('\n');
    let head = lines.next().unwrap_or("");
    let got: Vec<&str> = head.split('\t').collect();
    if got != header {
        return Err(SchemeError::new(file, "line 1", format!("表头应为 {:?}，实际为 {:?}", header, got)));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue; // the final LF
        }
        let cells: Vec<String> = line.split('\t').map(str::to_string).collect();
        if cells.len() != cols {
            return Err(SchemeError::new(file, format!("line {}", i + 2), format!("应有 {cols} 列，实际 {} 列", cells.len())));
        }
        rows.push(cells);
    }
    Ok(rows)
}

fn pairs(rows: Vec<Vec<String>>) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|mut r| {
            let b = r.pop().unwrap_or_default();
            let a = r.pop().unwrap_or_default();
            (a, b)
        })
        .collect()
}

fn boxed_map(rows: Vec<(String, String)>) -> FxHashMap<Box<str>, Box<str>> {
    rows.into_iter().map(|(a, b)| (a.into_boxed_str(), b.into_boxed_str())).collect()
}

impl Grouper {
    /// Reads and compiles a scheme directory (`shared/schemes/<id>/`).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Grouper, SchemeError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| SchemeError::new(dir.join(name).display().to_string(), "", format!("无法读取：{e}")))
        };
        let scheme_json = read("scheme.json")?;
        let table_names: FxHashMap<String, String> = match serde_json::from_str::<serde_json::Value>(&scheme_json) {
            Ok(v) => v
                .get("tables")
                .and_then(|t| t.as_object())
                .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
                .unwrap_or_default(),
            Err(_) => FxHashMap::default(), // compile() reports the JSON error with its position
        };
        let mut files = SchemeFiles { scheme_json, tables: FxHashMap::default() };
        for t in REQUIRED_TABLES {
            let file = table_names.get(t).cloned().unwrap_or_else(|| format!("{t}.tsv"));
            let content = read(&file)?;
            files.tables.insert(t.to_string(), (file, content));
        }
        Grouper::compile(&files)
    }

    /// Compiles a scheme from the contents of its files. Pure.
    pub fn compile(files: &SchemeFiles) -> Result<Grouper, SchemeError> {
        let de = &mut serde_json::Deserializer::from_str(&files.scheme_json);
        let raw: RawScheme = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            SchemeError::new("scheme.json", path, format!("JSON 不符合 drg-scheme/1 格式：{}", e.inner()))
        })?;
        let table = |name: &str, cols: usize, header: &[&str]| -> Result<Vec<Vec<String>>, SchemeError> {
            let (file, content) =
                files.tables.get(name).ok_or_else(|| SchemeError::new(format!("{name}.tsv"), "", "缺少该码表文件 (missing table)"))?;
            parse_tsv(file, content, cols, header)
        };
        let mcc = pairs(table("mcc", 2, &["code", "exclusion_table"])?);
        let cc = pairs(table("cc", 2, &["code", "exclusion_table"])?);
        let cc_exclusion = pairs(table("cc_exclusion", 2, &["principal_code", "exclusion_table"])?);
        let or_procedures: Vec<String> = table("or_procedures", 1, &["code"])?.into_iter().map(|mut r| r.remove(0)).collect();
        let drg_names_v = pairs(table("drg_names", 2, &["drg", "name"])?);
        let drg_names_s: FxHashMap<String, String> = drg_names_v.iter().cloned().collect();
        let tables = Tables { mcc, cc, cc_exclusion, or_procedures, drg_names: drg_names_s };
        let c = compile(&raw, &tables)?;
        let dicts = Dictionaries {
            diagnosis_names: boxed_map(pairs(table("diagnosis_names", 2, &["code", "name"])?)),
            procedure_names: boxed_map(pairs(table("procedure_names", 2, &["code", "name"])?)),
            diagnosis_map: boxed_map(pairs(table("diagnosis_map", 2, &["from_code", "to_code"])?)),
            procedure_map: boxed_map(pairs(table("procedure_map", 2, &["from_code", "to_code"])?)),
            drg_names: boxed_map(drg_names_v),
        };
        let cf = &raw.outcomes.check_failed;
        let check_failed = [
            cf.status.as_str().into(),
            cf.mdc.as_deref().unwrap_or("").into(),
            cf.adrg.as_deref().unwrap_or("").into(),
            cf.drg.as_deref().unwrap_or("").into(),
        ];
        let checks_msgs = raw.input_checks.iter().map(|c| c.message.as_str().into()).collect();
        Ok(Grouper {
            id: raw.id.clone(),
            title: raw.title.clone(),
            retry_each_procedure: raw.retry_each_procedure,
            translate_codes: false,
            c,
            check_failed,
            checks_msgs,
            dicts,
            raw,
        })
    }

    /// Scheme id (directory name), e.g. `chs_drg_11`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Scheme title, e.g. `CHS-DRG 1.1 国家版`.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The scheme as read (lists, rules), for generators and quality control.
    pub fn raw(&self) -> &RawScheme {
        &self.raw
    }
    /// Names and version maps of the scheme.
    pub fn dictionaries(&self) -> &Dictionaries {
        &self.dicts
    }
    /// Every code the rules can return: (drg, name, outcome).
    pub fn result_codes(&self) -> impl Iterator<Item = (&str, &str, Outcome)> {
        self.c.results.iter().filter(|r| r.outcome != Outcome::NoGroup).map(|r| (&*r.drg, &*r.name, r.outcome))
    }
    /// Switches optional code translation (FORMAT.md §8, OpenDRG `TRANS_CODE`) on or off.
    pub fn set_translate_codes(&mut self, on: bool) {
        self.translate_codes = on;
    }

    /// Groups one case (no trace).
    pub fn group<'g>(&'g self, case: &GroupInput<'_>) -> GroupResult<'g> {
        self.group_with(case, &mut NoTrace)
    }

    /// Groups one case and explains every decision.
    pub fn explain<'g>(&'g self, case: &GroupInput<'_>) -> (GroupResult<'g>, Trace) {
        let mut t = Trace::default();
        let r = self.group_with(case, &mut t);
        (r, t)
    }

    fn from_code(&self, ix: u32) -> GroupResult<'_> {
        let r = &self.c.results[ix as usize];
        GroupResult { outcome: r.outcome, status: &r.status, mdc: &r.mdc, adrg: &r.adrg, drg: &r.drg, drg_name: &r.name, message: "" }
    }

    fn failed<'g>(&'g self, outcome: Outcome, status: &'g str, message: &'g str) -> GroupResult<'g> {
        let [_, mdc, adrg, drg] = &self.check_failed;
        GroupResult { outcome, status, mdc, adrg, drg, drg_name: "", message }
    }

    fn encode(&self, codes: &[String], out: &mut SmallVec<[u32; 24]>) {
        out.clear();
        out.extend(codes.iter().map(|c| self.c.codes.get(c.as_str()).copied().unwrap_or(NONE)));
    }

    /// FORMAT.md §8. `Err(true)` = a diagnosis cannot be translated, `Err(false)` = a procedure.
    fn translate(&self, case: &GroupInput<'_>) -> Result<(Vec<String>, Vec<String>), bool> {
        fn tr(codes: &[String], map: &FxHashMap<Box<str>, Box<str>>) -> Option<Vec<String>> {
            let mut out = Vec::with_capacity(codes.len());
            for (i, c) in codes.iter().enumerate() {
                let to = map.get(c.as_str())?;
                let to: &str = if to.is_empty() { c } else { to };
                if to == "-" {
                    if i == 0 {
                        return None;
                    }
                    continue;
                }
                out.push(to.to_string());
            }
            Some(out)
        }
        let dx = tr(case.diagnoses, &self.dicts.diagnosis_map).ok_or(true)?;
        let px = tr(case.procedures, &self.dicts.procedure_map).ok_or(false)?;
        Ok((dx, px))
    }

    /// Groups one case, reporting every decision to `t`.
    pub fn group_with<'g, T: Tracer>(&'g self, case: &GroupInput<'_>, t: &mut T) -> GroupResult<'g> {
        if self.translate_codes {
            match self.translate(case) {
                Ok((dx, px)) => {
                    if T::ON {
                        t.line(0, format!("编码转换：诊断 {} → {}；手术操作 {} → {}", case.diagnoses.join("|"), dx.join("|"), case.procedures.join("|"), px.join("|")));
                    }
                    let translated = GroupInput { diagnoses: &dx, procedures: &px, ..*case };
                    return self.group_inner(&translated, t);
                }
                Err(true) => {
                    if T::ON {
                        t.line(0, "诊断不能转换为分组器支持的编码".to_string());
                    }
                    return self.failed(Outcome::DxNotTranslatable, "诊断不能转换为分组器支持的编码", "");
                }
                Err(false) => {
                    if T::ON {
                        t.line(0, "手术操作不能转换为分组器支持的编码".to_string());
                    }
                    return self.failed(Outcome::ProcNotTranslatable, "手术操作不能转换为分组器支持的编码", "");
                }
            }
        }
        self.group_inner(case, t)
    }

    fn group_inner<'g, T: Tracer>(&'g self, case: &GroupInput<'_>, t: &mut T) -> GroupResult<'g> {
        let mut dx = SmallVec::new();
        let mut px = SmallVec::new();
        self.encode(case.diagnoses, &mut dx);
        self.encode(case.procedures, &mut px);
        let e = Enc { inp: case, dx: &dx, px: &px };
        let eval_error = |f: RecordField, t: &mut T| {
            if T::ON {
                t.line(0, format!("{}({}) 为空，无法比较：不能分组", f.label_zh(), f.key()));
            }
            self.failed(Outcome::EvalError(f), &self.check_failed[0], eval_error_message(f))
        };
        match self.c.failed_check(&e, t) {
            Ok(Some(i)) => return self.failed(Outcome::CheckFailed(i), &self.check_failed[0], &self.checks_msgs[i]),
            Ok(None) => {}
            Err(err) => return eval_error(err.0, t),
        }
        let mut code = match self.c.group_code(&e, t) {
            Ok(c) => c,
            Err(err) => return eval_error(err.0, t),
        };
        if self.retry_each_procedure && code == self.c.no_group && px.len() > 1 {
            for (i, p) in px.iter().enumerate().skip(1) {
                if T::ON {
                    t.line(0, format!("整体无法入组，仅以手术操作 {} 重新分组", case.procedures[i]));
                }
                let one = std::slice::from_ref(&case.procedures[i]);
                let inp = GroupInput { procedures: one, ..*case };
                let e1 = Enc { inp: &inp, dx: &dx, px: std::slice::from_ref(p) };
                code = match self.c.group_code(&e1, t) {
                    Ok(c) => c,
                    Err(err) => return eval_error(err.0, t),
                };
                if code != self.c.no_group {
                    break;
                }
            }
        }
        self.from_code(code)
    }
}

fn eval_error_message(f: RecordField) -> &'static str {
    match f {
        RecordField::Sex => "性别为空，无法比较",
        RecordField::AgeYears => "年龄(岁)为空，无法比较",
        RecordField::AgeDays => "年龄(天)为空，无法比较",
        RecordField::BirthWeightG => "新生儿出生体重为空，无法比较",
        RecordField::LosDays => "实际住院天数为空，无法比较",
        RecordField::LeavingType => "离院方式为空，无法比较",
        RecordField::IcuHours => "重症监护时长为空，无法比较",
        RecordField::Dept => "出院科别为空，无法比较",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn grouper_is_send_sync() {
        fn assert_ss<T: Send + Sync>() {}
        assert_ss::<Grouper>();
    }
}
