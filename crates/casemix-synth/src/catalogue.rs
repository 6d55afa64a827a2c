//! What a region can be ill with: a case recipe per ADRG of the grouping scheme (principal
//! diagnosis / procedure candidates taken from the ADRG's own lists and verified with the real
//! grouper), a long-tailed popularity, a fixed relative cost, and complication pools (MCC/CC
//! tables of the scheme).

use crate::rng::{self, normal_from_hash, str_hash, Weighted};
use casemix_grouper::raw::{RawCond, RawList, RawStep};
use casemix_grouper::Grouper;
use casemix_model::{Centi, GroupInput};
use rustc_hash::{FxHashMap, FxHashSet};

/// The complication and OR tables of a scheme directory (FORMAT.md §1), as parsed text. The CLI
/// reads the files; parsing is pure.
#[derive(Debug, Clone, Default)]
pub struct SchemeTables {
    pub mcc: Vec<(String, String)>,
    pub cc: Vec<(String, String)>,
    pub cc_exclusion: Vec<(String, String)>,
    pub or_procedures: Vec<String>,
}

fn tsv_pairs(name: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let (a, b) = line.split_once('\t').ok_or_else(|| format!("{name} 第 {} 行缺少制表符", i + 1))?;
        out.push((a.to_string(), b.to_string()));
    }
    Ok(out)
}

impl SchemeTables {
    /// Parses the contents of `mcc.tsv`, `cc.tsv`, `cc_exclusion.tsv`, `or_procedures.tsv`.
    pub fn parse(mcc: &str, cc: &str, cc_exclusion: &str, or_procedures: &str) -> Result<SchemeTables, String> {
        Ok(SchemeTables {
            mcc: tsv_pairs("mcc.tsv", mcc)?,
            cc: tsv_pairs("cc.tsv", cc)?,
            cc_exclusion: tsv_pairs("cc_exclusion.tsv", cc_exclusion)?,
            or_procedures: or_procedures.split('\n').skip(1).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        })
    }
}

/// Group type from the CHS-DRG ADRG code: 2nd letter A–J surgical, K–Q interventional
/// (non-OR procedures), R–Z medical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Surgical,
    Interventional,
    Medical,
}

impl GroupKind {
    pub fn of_adrg(adrg: &str) -> GroupKind {
        match adrg.as_bytes().get(1).copied().unwrap_or(b'Z') {
            b'A'..=b'J' => GroupKind::Surgical,
            b'K'..=b'Q' => GroupKind::Interventional,
            _ => GroupKind::Medical,
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Severity from the DRG code's last digit: 1 MCC, 3 CC, 5 none, 9 (or other) not split.
pub fn severity_index(drg: &str) -> usize {
    match drg.as_bytes().last().copied() {
        Some(b'1') => 0,
        Some(b'3') => 1,
        Some(b'5') => 2,
        _ => 3,
    }
}

/// Demographic constraints of a recipe.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Demo {
    /// 1 male, 2 female.
    pub sex: Option<i64>,
    /// age_years == 0.
    pub infant: bool,
    /// age_days ≤ 28 (newborn).
    pub newborn: bool,
    /// Birth weight band [lo, hi).
    pub bw: Option<(i64, i64)>,
    /// Pregnancy, childbirth (MDCO): women 15–50.
    pub obstetric: bool,
}

/// How to make a case of one ADRG.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub adrg: String,
    pub name: String,
    pub mdc: String,
    pub kind: GroupKind,
    pub main_dx: Vec<u32>,
    pub main_proc: Vec<u32>,
    pub extra_proc: Vec<Vec<u32>>,
    pub extra_dx: Vec<Vec<u32>>,
    /// MDCZ: tag → codes, and the number of distinct regions required.
    pub regions: Option<(Vec<Vec<u32>>, usize)>,
    pub demo: Demo,
    /// Popularity weight (Zipf over a fixed ranking).
    pub popularity: f64,
    /// Fixed relative cost and LOS factors of the ADRG.
    pub cost_factor: f64,
    pub los_factor: f64,
    /// Outpatient-type condition (usable for low-standard admissions).
    pub outpatient_like: bool,
    /// At least one candidate the grouper places in this ADRG.
    pub verified: bool,
    /// Chemotherapy group (planned readmissions are common).
    pub chemo: bool,
}

/// The scheme-derived catalogue.
pub struct Catalogue {
    pub codes: Vec<Box<str>>,
    pub recipes: Vec<Recipe>,
    /// Weighted recipe choice per hospital level [三甲, 三级, 二级, 一级].
    pub by_level: [Weighted; 4],
    /// Surgical recipes only (for under-provision), per level.
    pub surgical_by_level: [Weighted; 4],
    /// Outpatient-like recipes (for low-standard admissions).
    pub outpatient_like: Weighted,
    /// Common comorbidities that are neither MCC nor CC.
    pub comorbid: Vec<u32>,
    /// MCC / CC pools: curated common codes and the whole tables.
    pub mcc_common: Vec<u32>,
    pub cc_common: Vec<u32>,
    pub mcc_all: Vec<u32>,
    pub cc_all: Vec<u32>,
    pub mcc_newborn: Vec<u32>,
    pub cc_newborn: Vec<u32>,
    /// code id → exclusion table of the code as MCC / CC, and as a principal.
    pub mcc_table: FxHashMap<u32, Box<str>>,
    pub cc_table: FxHashMap<u32, Box<str>>,
    pub principal_excl: FxHashMap<u32, Box<str>>,
    /// Sex-specific codes (diagnoses of MDCM / MDCN+MDCO, and the procedures of their ADRGs).
    pub male_only: FxHashSet<u32>,
    pub female_only: FxHashSet<u32>,
    /// Principal diagnoses no MDC accepts (ungroupable coding).
    pub unplaceable_dx: Vec<u32>,
    /// Secondary-diagnosis pool to make upcoding by principal swap: per MDC letter, medical
    /// recipes sorted by cost factor.
    pub ix: FxHashMap<Box<str>, u32>,
    /// ADRG code → recipe index.
    pub adrg_ix: FxHashMap<String, usize>,
    /// Common cancers (secondary code of chemo/radiotherapy stays, Z51.x principal).
    pub tumours: Vec<u32>,
    /// External causes (V01–Y98) coded with an injury/poisoning principal (S/T).
    pub external: Vec<u32>,
    /// 单一活产 (Z37.000), coded with deliveries.
    pub live_birth: Option<u32>,
    /// 头位顺产 (O80.000), coded with a vaginal delivery whose principal is the outcome (the
    /// scheme's OR1 takes Z37 as principal).
    pub spontaneous: Option<u32>,
}

/// Curated common MCC codes (checked against the scheme's mcc.tsv at load).
const MCC_COMMON: &[&str] = &[
    "I50.900", "J96.000", "J96.900", "R57.000", "N17.900", "A41.900", "N18.500", "J44.100", "R65.200", "I26.900", "J81.x00",
    "K72.900", "R40.200",
];
const CC_COMMON: &[&str] = &["J18.900", "E87.100", "E87.600", "J98.414", "E87.800", "D62.x00", "K92.200", "G93.400"];
const COMORBID: &[&str] = &[
    "I10.x00", "I10.x05", "E11.900", "E78.500", "K76.000", "I25.103", "D64.900", "I48.900", "N39.000", "K29.700", "I63.900",
];

const TUMOURS: &[&str] = &[
    "C34.900", "C16.900", "C18.900", "C50.900", "C22.000", "C20.x00", "C15.900", "C53.900", "C61.x00", "C56.x00", "C25.900", "C67.900",
];
const EXTERNAL: &[&str] = &["W19.x00", "W01.x00", "V89.200", "W18.x00", "V09.200"];

/// Popularity boosts by ADRG name keyword (the commonest inpatient groups of Chinese regions).
const POPULAR: &[(&str, f64)] = &[
    ("化学治疗", 30.0),
    ("呼吸系统感染", 20.0),
    ("慢性气道阻塞", 14.0),
    ("脑缺血", 16.0),
    ("阴道分娩", 12.0),
    ("剖宫产", 10.0),
    ("晶体手术", 8.0),
    ("白内障", 3.0),
    ("冠状动脉粥样硬化", 10.0),
    ("经皮冠状动脉支架", 6.0),
    ("心力衰竭", 6.0),
    ("心绞痛", 6.0),
    ("高血压", 6.0),
    ("糖尿病", 6.0),
    ("食管炎、胃肠炎", 6.0),
    ("颈腰背", 6.0),
    ("胆囊切除", 5.0),
    ("阑尾", 3.0),
    ("疝手术", 3.0),
    ("足月儿", 4.0),
    ("流产", 4.0),
    ("关节置换", 3.0),
    ("平衡失调", 4.0),
    ("胃镜", 4.0),
    ("结肠镜", 4.0),
    ("肾及尿路感染", 3.0),
    ("恶性肿瘤", 2.0),
    ("放射治疗", 3.0),
    ("骨折", 2.0),
    ("心律失常", 3.0),
    ("子宫", 2.0),
    ("脊柱", 2.0),
    ("颅内出血", 3.0),
    ("消化道梗阻或腹痛", 3.0),
    ("肺炎", 3.0),
    ("上呼吸道感染", 3.0),
    ("甲状腺", 2.0),
];

/// Cost multipliers by ADRG name keyword (relative to the group-type base).
const COSTLY: &[(&str, f64, f64)] = &[
    // keyword, cost factor, LOS factor
    ("移植", 10.0, 2.0),
    ("呼吸机支持", 5.0, 2.0),
    ("化学治疗", 0.8, 0.45),
    ("靶向", 1.2, 0.5),
    ("放射治疗", 2.0, 2.2),
    ("透析", 0.6, 0.5),
    ("阴道分娩", 0.7, 0.55),
    ("剖宫产", 0.45, 0.65),
    ("流产", 0.35, 0.4),
    ("晶体手术", 0.3, 0.35),
    ("足月儿", 0.5, 0.6),
    ("极度发育不全", 4.0, 4.0),
    ("早产儿", 1.6, 1.8),
    ("开颅", 2.2, 1.6),
    ("瓣膜", 2.5, 1.4),
    ("冠状动脉手术", 3.0, 1.5),
    ("支架", 1.5, 0.7),
    ("关节置换", 1.7, 1.3),
    ("脊柱融合", 2.0, 1.3),
    ("大手术", 1.6, 1.3),
    ("严重创伤", 2.5, 1.8),
    ("烧伤", 1.5, 1.6),
    ("白血病", 1.8, 1.5),
    ("精神", 0.7, 2.5),
    ("康复", 0.8, 2.0),
    ("内镜", 0.7, 0.6),
    ("镜治疗", 0.6, 0.5),
];

/// Conditions usually treated as outpatients (low-standard admissions take these).
const OUTPATIENT_LIKE: &[&str] =
    &["食管炎、胃肠炎", "高血压", "糖尿病", "颈腰背", "平衡失调", "上呼吸道感染", "头痛", "体征及症状", "随访", "中耳炎", "胃炎"];

struct Acc {
    main_dx: Vec<Vec<u32>>,
    any_dx: Vec<Vec<u32>>,
    main_proc: Vec<Vec<u32>>,
    any_proc: Vec<Vec<u32>>,
    regions: Option<(String, usize)>,
    demo: Demo,
}

struct Builder<'a> {
    raw: &'a casemix_grouper::raw::RawScheme,
    tables: &'a SchemeTables,
    codes: Vec<Box<str>>,
    ix: FxHashMap<Box<str>, u32>,
    list_cache: FxHashMap<String, Vec<u32>>,
}

impl<'a> Builder<'a> {
    fn intern(&mut self, c: &str) -> u32 {
        if let Some(&i) = self.ix.get(c) {
            return i;
        }
        let i = self.codes.len() as u32;
        self.codes.push(c.into());
        self.ix.insert(c.into(), i);
        i
    }
    fn list(&mut self, name: &str) -> Vec<u32> {
        if let Some(v) = self.list_cache.get(name) {
            return v.clone();
        }
        let codes: Vec<String> = if name == "@or_procedures" {
            self.tables.or_procedures.clone()
        } else {
            match self.raw.lists.get(name) {
                Some(l) => l.codes().into_iter().map(str::to_string).collect(),
                None => Vec::new(),
            }
        };
        let mut v: Vec<u32> = codes.iter().map(|c| self.intern(c)).collect();
        v.sort_unstable();
        v.dedup();
        self.list_cache.insert(name.to_string(), v.clone());
        v
    }
    fn tagged(&mut self, name: &str, tag: &str) -> Vec<u32> {
        let codes: Vec<String> = match self.raw.lists.get(name) {
            Some(RawList::Tagged(m)) => m.iter().filter(|(_, t)| t.as_str() == tag).map(|(c, _)| c.clone()).collect(),
            _ => Vec::new(),
        };
        codes.iter().map(|c| self.intern(c)).collect()
    }
    fn regions(&mut self, name: &str) -> Vec<Vec<u32>> {
        let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        if let Some(RawList::Tagged(m)) = self.raw.lists.get(name) {
            for (c, t) in m {
                by.entry(t.clone()).or_default().push(c.clone());
            }
        }
        by.into_values().map(|cs| cs.iter().map(|c| self.intern(c)).collect()).collect()
    }
    /// Collects what makes `c` true (first branch of an `or`; `not` ignored).
    fn satisfy(&mut self, c: &RawCond, a: &mut Acc) {
        match c {
            RawCond::And { args } => args.iter().for_each(|x| self.satisfy(x, a)),
            RawCond::Or { args } => {
                if let Some(x) = args.first() {
                    self.satisfy(x, a)
                }
            }
            RawCond::MainDxIn { list } => {
                let l = self.list(list);
                a.main_dx.push(l)
            }
            RawCond::AnyDxIn { list } | RawCond::SecondaryDxIn { list } => {
                let l = self.list(list);
                a.any_dx.push(l)
            }
            RawCond::MainProcIn { list } => {
                let l = self.list(list);
                a.main_proc.push(l)
            }
            RawCond::AnyProcIn { list } | RawCond::SecondaryProcIn { list } => {
                let l = self.list(list);
                a.any_proc.push(l)
            }
            RawCond::ProcTag { list, tag } => {
                let l = self.tagged(list, tag);
                a.any_proc.push(l)
            }
            RawCond::DxTagCount { list, min } => a.regions = Some((list.clone(), *min as usize)),
            RawCond::Present { field } | RawCond::Nonzero { field } if field == "age_days" => a.demo.infant = true,
            RawCond::Cmp { field, cmp, value } => {
                let v = value.as_i64().unwrap_or(0);
                match (field.as_str(), cmp.as_str()) {
                    ("sex", "==") => a.demo.sex = Some(v),
                    ("age_years", "==") if v == 0 => a.demo.infant = true,
                    ("age_days", "<=") | ("age_days", "<") => {
                        a.demo.infant = true;
                        a.demo.newborn = true
                    }
                    ("birth_weight_g", ">=") => {
                        let (_, hi) = a.demo.bw.unwrap_or((0, 5000));
                        a.demo.bw = Some((v, hi))
                    }
                    ("birth_weight_g", "<") => {
                        let (lo, _) = a.demo.bw.unwrap_or((0, 5000));
                        a.demo.bw = Some((lo, v))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn intersect(sets: &[Vec<u32>]) -> Vec<u32> {
    let mut it = sets.iter();
    let Some(first) = it.next() else { return Vec::new() };
    let mut cur = first.clone();
    for s in it {
        let set: FxHashSet<u32> = s.iter().copied().collect();
        cur.retain(|c| set.contains(c));
    }
    cur
}

/// A plain test case for verification.
pub(crate) struct TestCase {
    pub sex: i64,
    pub age: i64,
    pub age_days: Option<i64>,
    pub bw: Option<i64>,
    pub dx: Vec<String>,
    pub px: Vec<String>,
}

impl TestCase {
    pub fn group<'g>(&self, g: &'g Grouper) -> casemix_grouper::GroupResult<'g> {
        g.group(&GroupInput {
            sex: Some(self.sex),
            age_years: Some(self.age),
            age_days: self.age_days,
            birth_weight_g: self.bw,
            dept: None,
            los_days: Some(7),
            leaving_type: Some(1),
            icu_hours: Some(Centi(0)),
            diagnoses: &self.dx,
            procedures: &self.px,
        })
    }
}

pub(crate) fn demo_defaults(d: &Demo) -> (i64, i64, Option<i64>, Option<i64>) {
    let sex = d.sex.unwrap_or(if d.obstetric { 2 } else { 1 });
    if d.newborn {
        let bw = d.bw.map(|(lo, hi)| (lo.max(500) + hi.min(4500)) / 2).unwrap_or(3200);
        (sex, 0, Some(5), Some(bw))
    } else if d.infant {
        (sex, 0, Some(120), None)
    } else if d.obstetric {
        (2, 28, None, None)
    } else {
        (sex, 50, None, None)
    }
}

impl Catalogue {
    pub fn code(&self, i: u32) -> &str {
        &self.codes[i as usize]
    }

    /// Builds the catalogue from a compiled scheme and its tables. Pure; deterministic (no seed:
    /// the case mix of a scheme is a fixed property; seeds vary the draws).
    pub fn build(g: &Grouper, tables: &SchemeTables, zipf: f64) -> Result<Catalogue, String> {
        let raw = g.raw();
        let mut b = Builder { raw, tables, codes: Vec::new(), ix: FxHashMap::default(), list_cache: FxHashMap::default() };
        // sex-specific codes
        let mut male_only = FxHashSet::default();
        let mut female_only = FxHashSet::default();
        for m in &raw.mdcs {
            let mut a = Acc { main_dx: vec![], any_dx: vec![], main_proc: vec![], any_proc: vec![], regions: None, demo: Demo::default() };
            b.satisfy(&m.entry, &mut a);
            let dx: Vec<u32> = a.main_dx.concat();
            match m.code.as_str() {
                "MDCM" => male_only.extend(dx),
                "MDCN" | "MDCO" => female_only.extend(dx),
                _ => {}
            }
        }
        let both: Vec<u32> = male_only.intersection(&female_only).copied().collect();
        for c in both {
            male_only.remove(&c);
            female_only.remove(&c);
        }
        // a general principal-diagnosis pool for steps without a diagnosis list (MDCA): the
        // regular MDCs' lists
        let mut general: Vec<u32> = Vec::new();
        for m in &raw.mdcs {
            if matches!(m.code.as_str(), "MDCA" | "MDCP" | "MDCY" | "MDCZ" | "MDCM" | "MDCN" | "MDCO") {
                continue;
            }
            let mut a = Acc { main_dx: vec![], any_dx: vec![], main_proc: vec![], any_proc: vec![], regions: None, demo: Demo::default() };
            b.satisfy(&m.entry, &mut a);
            general.extend(a.main_dx.concat());
        }
        general.sort_unstable();
        general.dedup();

        let mut recipes = Vec::new();
        for m in &raw.mdcs {
            let mut ma = Acc { main_dx: vec![], any_dx: vec![], main_proc: vec![], any_proc: vec![], regions: None, demo: Demo::default() };
            b.satisfy(&m.entry, &mut ma);
            for st in &m.steps {
                let RawStep::Adrg { adrg, name, entry, .. } = st else { continue };
                let mut a = Acc {
                    main_dx: ma.main_dx.clone(),
                    any_dx: ma.any_dx.clone(),
                    main_proc: ma.main_proc.clone(),
                    any_proc: ma.any_proc.clone(),
                    regions: ma.regions.clone(),
                    demo: ma.demo,
                };
                b.satisfy(entry, &mut a);
                if m.code == "MDCO" {
                    a.demo.obstetric = true;
                    a.demo.sex = Some(2);
                }
                // principal diagnosis candidates
                let mut main_dx = if a.main_dx.is_empty() { general.clone() } else { intersect(&a.main_dx) };
                let mut extra_dx = Vec::new();
                for s in &a.any_dx {
                    let set: FxHashSet<u32> = s.iter().copied().collect();
                    let inter: Vec<u32> = main_dx.iter().copied().filter(|c| set.contains(c)).collect();
                    if !inter.is_empty() {
                        main_dx = inter;
                    } else {
                        extra_dx.push(s.clone());
                    }
                }
                let mut main_proc = intersect(&a.main_proc);
                let mut any_proc = a.any_proc.clone();
                if main_proc.is_empty() && !any_proc.is_empty() {
                    main_proc = any_proc.remove(0);
                }
                // main_proc_in a list AND main_proc_in @or: intersect already done
                let regions = a.regions.as_ref().map(|(list, min)| (b.regions(list), *min));
                // PV1-like steps (const true inside an infant MDC): infant, not newborn
                let kind = GroupKind::of_adrg(adrg);
                let name = name.clone().unwrap_or_default();
                let mut cost_factor = (0.35 * normal_from_hash(str_hash(&format!("cost:{adrg}")))).exp();
                let mut los_factor = cost_factor.powf(0.3);
                for (k, c, l) in COSTLY {
                    if name.contains(k) {
                        cost_factor *= c;
                        los_factor *= l;
                    }
                }
                let mut pop = match kind {
                    GroupKind::Medical => 1.0,
                    GroupKind::Interventional => 0.6,
                    GroupKind::Surgical => 0.5,
                };
                for (k, w) in POPULAR {
                    if name.contains(k) {
                        pop *= w;
                    }
                }
                if m.code == "MDCA" {
                    pop *= 0.05;
                }
                if m.code == "MDCY" || m.code == "MDCU" {
                    pop *= 0.2;
                }
                pop *= (0.9 * normal_from_hash(str_hash(&format!("pop:{adrg}")))).exp();
                let chemo = name.contains("化学治疗");
                let outpatient_like = kind == GroupKind::Medical && OUTPATIENT_LIKE.iter().any(|k| name.contains(k));
                recipes.push(Recipe {
                    adrg: adrg.clone(),
                    name,
                    mdc: m.code.clone(),
                    kind,
                    main_dx,
                    main_proc,
                    extra_proc: any_proc,
                    extra_dx,
                    regions,
                    demo: a.demo,
                    popularity: pop,
                    cost_factor,
                    los_factor,
                    outpatient_like,
                    verified: false,
                    chemo,
                });
            }
        }
        let mut cat = Catalogue {
            codes: b.codes,
            ix: b.ix,
            recipes,
            by_level: Default::default(),
            surgical_by_level: Default::default(),
            outpatient_like: Weighted::default(),
            comorbid: Vec::new(),
            mcc_common: Vec::new(),
            cc_common: Vec::new(),
            mcc_all: Vec::new(),
            cc_all: Vec::new(),
            mcc_newborn: Vec::new(),
            cc_newborn: Vec::new(),
            mcc_table: FxHashMap::default(),
            cc_table: FxHashMap::default(),
            principal_excl: FxHashMap::default(),
            male_only,
            female_only,
            unplaceable_dx: Vec::new(),
            adrg_ix: FxHashMap::default(),
            tumours: Vec::new(),
            external: Vec::new(),
            live_birth: None,
            spontaneous: None,
        };
        for (i, r) in cat.recipes.iter().enumerate() {
            cat.adrg_ix.entry(r.adrg.clone()).or_insert(i);
        }
        // complication tables
        let intern = |cat: &mut Catalogue, c: &str| -> u32 {
            if let Some(&i) = cat.ix.get(c) {
                return i;
            }
            let i = cat.codes.len() as u32;
            cat.codes.push(c.into());
            cat.ix.insert(c.into(), i);
            i
        };
        for (c, t) in &tables.mcc {
            let i = intern(&mut cat, c);
            cat.mcc_table.insert(i, t.as_str().into());
            cat.mcc_all.push(i);
        }
        for (c, t) in &tables.cc {
            let i = intern(&mut cat, c);
            cat.cc_table.insert(i, t.as_str().into());
            cat.cc_all.push(i);
        }
        for (c, t) in &tables.cc_exclusion {
            let i = intern(&mut cat, c);
            cat.principal_excl.insert(i, t.as_str().into());
        }
        // keep only codes that are real diagnoses (have a letter first) and not BOM-prefixed
        let plain = |cat: &Catalogue, i: &u32| cat.codes[*i as usize].as_bytes().first().is_some_and(|b| b.is_ascii_uppercase());
        let mcc_all: Vec<u32> = cat.mcc_all.iter().copied().filter(|i| plain(&cat, i)).collect();
        let cc_all: Vec<u32> = cat.cc_all.iter().copied().filter(|i| plain(&cat, i)).collect();
        cat.mcc_all = mcc_all;
        cat.cc_all = cc_all;
        cat.mcc_common = MCC_COMMON.iter().filter_map(|c| cat.ix.get(*c).copied()).filter(|i| cat.mcc_table.contains_key(i)).collect();
        cat.cc_common = CC_COMMON.iter().filter_map(|c| cat.ix.get(*c).copied()).filter(|i| cat.cc_table.contains_key(i)).collect();
        let comorbid: Vec<u32> = COMORBID.iter().map(|c| intern(&mut cat, c)).collect();
        cat.comorbid = comorbid.into_iter().filter(|i| !cat.mcc_table.contains_key(i) && !cat.cc_table.contains_key(i)).collect();
        // newborn complications: perinatal codes (P..) of the tables
        cat.mcc_newborn = cat.mcc_all.iter().copied().filter(|i| cat.codes[*i as usize].starts_with('P')).collect();
        cat.cc_newborn = cat.cc_all.iter().copied().filter(|i| cat.codes[*i as usize].starts_with('P')).collect();
        if cat.mcc_all.is_empty() || cat.cc_all.is_empty() {
            return Err("分组方案的 MCC/CC 表为空，无法生成并发症".into());
        }
        // coding companions, kept only when the scheme's dictionary knows them
        let names = &g.dictionaries().diagnosis_names;
        for c in TUMOURS {
            if names.contains_key(*c) {
                let i = intern(&mut cat, c);
                cat.tumours.push(i);
            }
        }
        for c in EXTERNAL {
            if names.contains_key(*c) {
                let i = intern(&mut cat, c);
                cat.external.push(i);
            }
        }
        if names.contains_key("Z37.000") {
            cat.live_birth = Some(intern(&mut cat, "Z37.000"));
        }
        if names.contains_key("O80.000") {
            cat.spontaneous = Some(intern(&mut cat, "O80.000"));
        }
        // delivery outcome codes (Z37) are additional codes, never principal
        for r in cat.recipes.iter_mut() {
            let keep: Vec<u32> = r.main_dx.iter().copied().filter(|i| !cat.codes[*i as usize].starts_with("Z37")).collect();
            if !keep.is_empty() {
                r.main_dx = keep;
            }
        }
        // sex-specific procedures: those of the male (MDCM) and female (MDCN, MDCO) ADRGs only
        let mut mp: FxHashSet<u32> = FxHashSet::default();
        let mut fp: FxHashSet<u32> = FxHashSet::default();
        let mut other: FxHashSet<u32> = FxHashSet::default();
        for r in &cat.recipes {
            let set = match r.mdc.as_str() {
                "MDCM" => &mut mp,
                "MDCN" | "MDCO" => &mut fp,
                _ => &mut other,
            };
            set.extend(r.main_proc.iter().copied());
        }
        for p in mp.iter() {
            if !fp.contains(p) && !other.contains(p) {
                cat.male_only.insert(*p);
            }
        }
        for p in fp.iter() {
            if !mp.contains(p) && !other.contains(p) {
                cat.female_only.insert(*p);
            }
        }
        cat.verify(g);
        // unplaceable principal diagnoses: MCC-table codes that no MDC list accepts
        let mut placeable: FxHashSet<u32> = FxHashSet::default();
        for r in &cat.recipes {
            placeable.extend(r.main_dx.iter().copied());
        }
        cat.unplaceable_dx = cat
            .mcc_all
            .iter()
            .chain(cat.cc_all.iter())
            .copied()
            .filter(|i| !placeable.contains(i))
            .filter(|i| {
                let t = TestCase { sex: 1, age: 50, age_days: None, bw: None, dx: vec![cat.code(*i).to_string()], px: vec![] };
                !t.group(g).is_grouped()
            })
            .take(200)
            .collect();
        // popularity: Zipf over the ranking of the base weights
        let mut order: Vec<usize> = (0..cat.recipes.len()).filter(|&i| cat.recipes[i].verified).collect();
        order.sort_by(|&a, &b| {
            cat.recipes[b].popularity.partial_cmp(&cat.recipes[a].popularity).unwrap().then(cat.recipes[a].adrg.cmp(&cat.recipes[b].adrg))
        });
        let mut zipf_w = vec![0.0; cat.recipes.len()];
        for (rank, &i) in order.iter().enumerate() {
            zipf_w[i] = 1.0 / ((rank + 1) as f64).powf(zipf);
        }
        for (i, r) in cat.recipes.iter_mut().enumerate() {
            r.popularity = zipf_w[i];
        }
        // level availability [三甲, 三级, 二级, 一级]
        for lv in 0..4 {
            let w = cat.recipes.iter().map(|r| r.popularity * level_factor(r, lv)).collect::<Vec<_>>();
            cat.by_level[lv] = Weighted::new(w.iter().copied());
            cat.surgical_by_level[lv] = Weighted::new(
                cat.recipes.iter().zip(&w).map(|(r, w)| if r.kind == GroupKind::Surgical && !r.demo.infant { *w } else { 0.0 }),
            );
        }
        cat.outpatient_like = Weighted::new(cat.recipes.iter().map(|r| if r.outpatient_like && r.verified { 1.0 } else { 0.0 }));
        Ok(cat)
    }

    /// Keeps only the principal diagnoses / procedures that the grouper really places in the
    /// recipe's ADRG with a plain case; a recipe with none left is not used.
    fn verify(&mut self, g: &Grouper) {
        let mut r = rng::substream(0x7665_7269_6679, &[]);
        for k in 0..self.recipes.len() {
            let rec = self.recipes[k].clone();
            let (sex, age, age_days, bw) = demo_defaults(&rec.demo);
            let extras = |r: &mut rng::Rng, cat: &Catalogue| -> (Vec<String>, Vec<String>) {
                let mut dx = Vec::new();
                for l in &rec.extra_dx {
                    if !l.is_empty() {
                        dx.push(cat.code(l[rng::index(r, l.len())]).to_string());
                    }
                }
                let mut px = Vec::new();
                for l in &rec.extra_proc {
                    if !l.is_empty() {
                        px.push(cat.code(l[rng::index(r, l.len())]).to_string());
                    }
                }
                (dx, px)
            };
            let region_dx = |r: &mut rng::Rng, cat: &Catalogue, principal: u32| -> Vec<String> {
                let Some((regions, min)) = &rec.regions else { return vec![] };
                let mut out = Vec::new();
                let own = regions.iter().position(|g| g.contains(&principal));
                let mut n = if own.is_some() { 1 } else { 0 };
                for (ti, codes) in regions.iter().enumerate() {
                    if n >= *min {
                        break;
                    }
                    if Some(ti) == own || codes.is_empty() {
                        continue;
                    }
                    out.push(cat.code(codes[rng::index(r, codes.len())]).to_string());
                    n += 1;
                }
                out
            };
            let hit = |t: &TestCase| t.group(g).adrg == rec.adrg;
            if rec.main_proc.is_empty() {
                let mut keep = Vec::new();
                for &d in &rec.main_dx {
                    let (edx, epx) = extras(&mut r, self);
                    let mut dx = vec![self.code(d).to_string()];
                    dx.extend(region_dx(&mut r, self, d));
                    dx.extend(edx);
                    let sex = self.sex_for(d).unwrap_or(sex);
                    let t = TestCase { sex, age, age_days, bw, dx, px: epx };
                    if hit(&t) {
                        keep.push(d);
                    }
                }
                self.recipes[k].verified = !keep.is_empty();
                self.recipes[k].main_dx = keep;
            } else {
                // procedures: each tried with up to 4 principal diagnoses
                let mut keep_p = Vec::new();
                let mut keep_d: Vec<u32> = Vec::new();
                if rec.main_dx.is_empty() {
                    continue;
                }
                for &p in &rec.main_proc {
                    for _ in 0..4 {
                        let d = rec.main_dx[rng::index(&mut r, rec.main_dx.len())];
                        let (edx, epx) = extras(&mut r, self);
                        let mut dx = vec![self.code(d).to_string()];
                        dx.extend(region_dx(&mut r, self, d));
                        dx.extend(edx);
                        let mut px = vec![self.code(p).to_string()];
                        px.extend(epx);
                        let sex = self.sex_for(d).unwrap_or(sex);
                        let t = TestCase { sex, age, age_days, bw, dx, px };
                        if hit(&t) {
                            keep_p.push(p);
                            keep_d.push(d);
                            break;
                        }
                    }
                }
                if keep_p.is_empty() {
                    self.recipes[k].verified = false;
                    continue;
                }
                // diagnoses: the candidates that work with a verified procedure (cap the work)
                let mut dk = Vec::new();
                let sample: Vec<u32> = if rec.main_dx.len() <= 400 {
                    rec.main_dx.clone()
                } else {
                    (0..400).map(|_| rec.main_dx[rng::index(&mut r, rec.main_dx.len())]).collect()
                };
                for &d in &sample {
                    let p = keep_p[rng::index(&mut r, keep_p.len())];
                    let (edx, epx) = extras(&mut r, self);
                    let mut dx = vec![self.code(d).to_string()];
                    dx.extend(region_dx(&mut r, self, d));
                    dx.extend(edx);
                    let mut px = vec![self.code(p).to_string()];
                    px.extend(epx);
                    let sex = self.sex_for(d).unwrap_or(sex);
                    if hit(&TestCase { sex, age, age_days, bw, dx, px }) {
                        dk.push(d);
                    }
                }
                keep_d.extend(dk);
                keep_d.sort_unstable();
                keep_d.dedup();
                self.recipes[k].main_proc = keep_p;
                self.recipes[k].main_dx = keep_d;
                self.recipes[k].verified = true;
            }
        }
    }

    /// The sex a diagnosis requires, if any.
    pub fn sex_for(&self, d: u32) -> Option<i64> {
        if self.male_only.contains(&d) {
            Some(1)
        } else if self.female_only.contains(&d) {
            Some(2)
        } else {
            None
        }
    }

    pub fn verified_count(&self) -> usize {
        self.recipes.iter().filter(|r| r.verified).count()
    }
}

/// Which groups a hospital level treats: primary hospitals rarely operate, secondary ones do
/// common surgery, tertiary hospitals everything.
fn level_factor(r: &Recipe, lv: usize) -> f64 {
    if !r.verified {
        return 0.0;
    }
    let heavy = r.cost_factor > 3.0 || r.mdc == "MDCA";
    match (lv, r.kind) {
        (0, GroupKind::Surgical) => 1.3,
        (0, GroupKind::Interventional) => 1.2,
        (0, _) => 0.9,
        (1, _) => 1.0,
        (2, _) if heavy => 0.05,
        (2, GroupKind::Surgical) => 0.6,
        (2, GroupKind::Interventional) => 0.5,
        (2, _) => 1.1,
        (_, _) if heavy => 0.0,
        (_, GroupKind::Surgical) => 0.12,
        (_, GroupKind::Interventional) => 0.1,
        _ => 1.3,
    }
}
