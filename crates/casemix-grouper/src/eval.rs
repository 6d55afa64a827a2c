//! Condition evaluation over an encoded record (FORMAT.md §4–§5).

use crate::compiled::{CmpOp, Compiled, Cond, RecordField, Step, Which, NONE};
use crate::trace::Tracer;
use casemix_model::GroupInput;

/// A comparison met a missing field (FORMAT.md §5.4): the record cannot be grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EvalError(pub RecordField);

/// A record with its codes interned.
pub(crate) struct Enc<'a, 'b> {
    pub inp: &'a GroupInput<'b>,
    pub dx: &'a [u32],
    pub px: &'a [u32],
}

fn int_field(inp: &GroupInput<'_>, f: RecordField) -> Option<i64> {
    match f {
        RecordField::Sex => inp.sex,
        RecordField::AgeYears => inp.age_years,
        RecordField::AgeDays => inp.age_days,
        RecordField::BirthWeightG => inp.birth_weight_g,
        RecordField::LosDays => inp.los_days,
        RecordField::LeavingType => inp.leaving_type,
        RecordField::IcuHours => inp.icu_hours.map(|c| c.0),
        RecordField::Dept => None,
    }
}

fn show_int(f: RecordField, v: Option<i64>) -> String {
    match v {
        None => "空".into(),
        Some(x) if f == RecordField::IcuHours => casemix_model::Centi(x).to_string(),
        Some(x) => x.to_string(),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

impl Compiled {
    fn in_set(&self, set: u32, id: u32) -> bool {
        id != NONE && self.sets[set as usize].set.contains(id)
    }

    fn codes_in<T: Tracer>(&self, what: &str, which: Which, ids: &[u32], raw: &[String], set: u32, t: &mut T, d: usize) -> bool {
        let range = match which {
            Which::Main => &ids[..ids.len().min(1)],
            Which::Any => ids,
            Which::Secondary => ids.get(1..).unwrap_or(&[]),
        };
        let hit = range.iter().position(|&c| self.in_set(set, c));
        if T::ON {
            let off = if which == Which::Secondary { 1 } else { 0 };
            let scope = match (which, what) {
                (Which::Main, "dx") => "主要诊断",
                (Which::Any, "dx") => "任一诊断",
                (Which::Secondary, "dx") => "其他诊断",
                (Which::Main, _) => "主要手术操作",
                (Which::Any, _) => "任一手术操作",
                (Which::Secondary, _) => "其他手术操作",
            };
            let name = &self.sets[set as usize].name;
            let text = match hit {
                Some(i) => format!("{scope} {} 属于列表 {name}：是", raw[i + off]),
                None if which == Which::Main && range.is_empty() => format!("{scope}为空，不属于列表 {name}：否"),
                None if which == Which::Main => format!("{scope} {} 不属于列表 {name}：否", raw[off]),
                None => format!("{scope}均不属于列表 {name}：否"),
            };
            t.line(d, text);
        }
        hit.is_some()
    }

    /// has_mcc / has_cc (FORMAT.md §5.3).
    fn has_comp<T: Tracer>(&self, mcc: bool, e: &Enc, t: &mut T, d: usize) -> bool {
        let table = if mcc { &self.mcc } else { &self.cc };
        let label = if mcc { "MCC" } else { "CC" };
        let Some(&p) = e.dx.first() else { return false };
        let excl = if p == NONE { self.empty_excl } else { self.cc_excl[p as usize] };
        let excl = if excl == NONE { self.empty_excl } else { excl };
        for (i, &x) in e.dx.iter().enumerate().skip(1) {
            if x == NONE {
                continue;
            }
            let tx = table[x as usize];
            if tx == NONE {
                continue;
            }
            if excl != self.empty_excl && excl == tx {
                if T::ON {
                    t.line(
                        d,
                        format!(
                            "其他诊断 {} 为{label}（排除表 {}），但主要诊断 {} 的排除表为 {}：被排除，不计入",
                            e.inp.diagnoses[i], self.excl_strs[tx as usize], e.inp.diagnoses[0], self.excl_strs[excl as usize]
                        ),
                    );
                }
                continue;
            }
            if T::ON {
                t.line(d, format!("其他诊断 {} 为{label}（排除表 {}），未被主要诊断排除：计入，有{label}", e.inp.diagnoses[i], self.excl_strs[tx as usize]));
            }
            return true;
        }
        if T::ON {
            t.line(d, format!("其他诊断中无计入的{label}：无{label}"));
        }
        false
    }

    pub(crate) fn eval<T: Tracer>(&self, c: &Cond, e: &Enc, t: &mut T, d: usize) -> Result<bool, EvalError> {
        Ok(match c {
            Cond::Const(b) => *b,
            Cond::And(args) => {
                for a in args.iter() {
                    if !self.eval(a, e, t, d)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Or(args) => {
                for a in args.iter() {
                    if self.eval(a, e, t, d)? {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::Not(a) => !self.eval(a, e, t, d)?,
            Cond::DxIn(w, s) => self.codes_in("dx", *w, e.dx, e.inp.diagnoses, *s, t, d),
            Cond::ProcIn(w, s) => self.codes_in("px", *w, e.px, e.inp.procedures, *s, t, d),
            Cond::DxTagCount { map, min } => {
                let m = &self.tagmaps[*map as usize];
                let mut seen: smallvec::SmallVec<[u16; 8]> = smallvec::SmallVec::new();
                for &x in e.dx {
                    if let Some(&tag) = m.tags.get(&x) {
                        if !seen.contains(&tag) {
                            seen.push(tag);
                        }
                    }
                }
                let r = seen.len() as i64 >= *min;
                if T::ON {
                    let names: Vec<&str> = seen.iter().map(|&i| m.tag_names[i as usize].as_str()).collect();
                    t.line(d, format!("诊断涉及列表 {} 的部位 {} 个（{}），至少 {} 个：{}", m.name, seen.len(), names.join("、"), min, yes(r)));
                }
                r
            }
            Cond::Count { procedures, op, value } => {
                let n = if *procedures { e.px.len() } else { e.dx.len() } as i64;
                let r = op.apply(n, *value);
                if T::ON {
                    let what = if *procedures { "手术操作数" } else { "诊断数" };
                    t.line(d, format!("{what} {n} {} {value}：{}", op.symbol(), yes(r)));
                }
                r
            }
            Cond::HasMcc => self.has_comp(true, e, t, d),
            Cond::HasCc => self.has_comp(false, e, t, d),
            Cond::Present(f) => {
                let r = if *f == RecordField::Dept { e.inp.dept.is_some() } else { int_field(e.inp, *f).is_some() };
                if T::ON {
                    t.line(d, format!("{}({}) 有值：{}", f.label_zh(), f.key(), yes(r)));
                }
                r
            }
            Cond::Nonzero(f) => {
                let r = if *f == RecordField::Dept {
                    e.inp.dept.is_some_and(|s| !s.is_empty())
                } else {
                    int_field(e.inp, *f).is_some_and(|v| v != 0)
                };
                if T::ON {
                    t.line(d, format!("{}({}) 有值且不为0：{}", f.label_zh(), f.key(), yes(r)));
                }
                r
            }
            Cond::CmpInt { field, op, value } => {
                let v = int_field(e.inp, *field);
                let r = match v {
                    Some(x) => op.apply(x, *value),
                    None if op.is_ordering() => return Err(EvalError(*field)),
                    None => *op == CmpOp::Ne,
                };
                if T::ON {
                    t.line(
                        d,
                        format!("{}({}) = {} {} {}：{}", field.label_zh(), field.key(), show_int(*field, v), op.symbol(), show_int(*field, Some(*value)), yes(r)),
                    );
                }
                r
            }
            Cond::CmpStr { op, value } => {
                let r = match e.inp.dept {
                    Some(x) => op.apply(x, &**value),
                    None if op.is_ordering() => return Err(EvalError(RecordField::Dept)),
                    None => *op == CmpOp::Ne,
                };
                if T::ON {
                    t.line(d, format!("出院科别(dept) = {} {} {}：{}", e.inp.dept.unwrap_or("空"), op.symbol(), value, yes(r)));
                }
                r
            }
            Cond::InSetInt { field, values } => {
                let v = int_field(e.inp, *field);
                let r = v.is_some_and(|x| values.contains(&x));
                if T::ON {
                    let vs: Vec<String> = values.iter().map(|x| show_int(*field, Some(*x))).collect();
                    t.line(d, format!("{}({}) = {} ∈ {{{}}}：{}", field.label_zh(), field.key(), show_int(*field, v), vs.join(","), yes(r)));
                }
                r
            }
            Cond::InSetStr { values } => {
                let r = e.inp.dept.is_some_and(|x| values.iter().any(|v| &**v == x));
                if T::ON {
                    let vs: Vec<&str> = values.iter().map(|v| &**v).collect();
                    t.line(d, format!("出院科别(dept) = {} ∈ {{{}}}：{}", e.inp.dept.unwrap_or("空"), vs.join(","), yes(r)));
                }
                r
            }
        })
    }

    /// `group_code` of FORMAT.md §4: the index of the produced result code.
    pub(crate) fn group_code<T: Tracer>(&self, e: &Enc, t: &mut T) -> Result<u32, EvalError> {
        for m in &self.mdcs {
            let mark = t.mark();
            if T::ON {
                t.line(0, format!("{} {}：判断入口条件", m.code, m.name));
            }
            if !self.eval(&m.entry, e, t, 1)? {
                if T::ON {
                    t.truncate(mark);
                }
                continue;
            }
            if T::ON {
                t.line(1, format!("入口条件满足，进入 {}", m.code));
            }
            for s in &m.steps {
                match s {
                    Step::Ambiguous { code, when } => {
                        let mark = t.mark();
                        if T::ON {
                            t.line(1, format!("歧义组 {} 检查", self.results[*code as usize].drg));
                        }
                        if self.eval(when, e, t, 2)? {
                            if T::ON {
                                t.line(1, format!("入歧义组 {}", self.results[*code as usize].drg));
                            }
                            return Ok(*code);
                        }
                        if T::ON {
                            t.truncate(mark);
                        }
                    }
                    Step::Adrg { id, adrg, name, entry, drgs, fallback } => {
                        let mark = t.mark();
                        if T::ON {
                            t.line(1, format!("ADRG {adrg} {name}（模块 {id}）：判断入口条件"));
                        }
                        if !self.eval(entry, e, t, 2)? {
                            if T::ON {
                                t.truncate(mark);
                            }
                            continue;
                        }
                        if T::ON {
                            t.line(2, format!("入 ADRG {adrg}，依次判断细分组"));
                        }
                        for (code, when) in drgs {
                            let r = &self.results[*code as usize];
                            if T::ON {
                                t.line(2, format!("DRG {} {}：", r.drg, r.name));
                            }
                            if self.eval(when, e, t, 3)? {
                                if T::ON {
                                    t.line(2, format!("条件满足，入组 {} {}", r.drg, r.name));
                                }
                                return Ok(*code);
                            }
                        }
                        if let Some(fb) = fallback {
                            if T::ON {
                                t.line(2, format!("细分组条件均不满足，取 ADRG 兜底组 {}", self.results[*fb as usize].drg));
                            }
                            return Ok(*fb);
                        }
                        if T::ON {
                            t.line(2, format!("细分组条件均不满足且无兜底组，继续下一个 ADRG"));
                        }
                    }
                }
            }
            if T::ON {
                t.line(1, format!("{} 内无 ADRG 入组，继续下一个 MDC", m.code));
            }
        }
        if T::ON {
            t.line(0, "所有 MDC 均未产生分组：无法入组".to_string());
        }
        Ok(self.no_group)
    }

    /// Input checks (FORMAT.md §6): index of the first failing check.
    pub(crate) fn failed_check<T: Tracer>(&self, e: &Enc, t: &mut T) -> Result<Option<usize>, EvalError> {
        for (i, (msg, c)) in self.checks.iter().enumerate() {
            if self.eval(c, e, &mut crate::trace::NoTrace, 0)? {
                if T::ON {
                    t.line(0, format!("信息校验不通过：{msg}"));
                }
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}
