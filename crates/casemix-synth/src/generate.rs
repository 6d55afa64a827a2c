//! Generation of one hospital-month: inpatient stays, their outpatient/pharmacy claims and the
//! injected behaviours with their labels. Pure: the caller sends the rows to a sink.

use crate::catalogue::{severity_index, Catalogue, Demo, GroupKind, Recipe};
use crate::config::{Kind, SynthConfig};
use crate::hospitals::{self, Hospital};
use crate::money::{apportion, share};
use crate::rng::{self, normal, Rng};
use casemix_grouper::Grouper;
use casemix_model::{
    AdmitRoute, Centi, ChargeItem, Claim, FeeKind, Fen, InsuranceType, LeavingType, PaymentMethod, Poa, ProviderKind, ReadmitPlan, Sex,
    SettlementList,
};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

/// One row of labels.csv: the ground truth of an injected behaviour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// list_id (or claim_id) carrying the behaviour.
    pub id: String,
    pub kind: Kind,
    /// The other row involved (first stay of a split, original of a duplicate, claim of a cost
    /// shift), empty otherwise.
    pub related_id: String,
    /// Chinese explanation with the numbers.
    pub note: String,
}

/// A generated settlement list with its grouping result (as submitted).
#[derive(Debug, Clone)]
pub struct Row {
    pub list: Box<SettlementList>,
    /// DRG code when grouped (分组成功), else empty.
    pub drg: String,
    pub adrg: String,
}

/// Everything one hospital-month produces, in output order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub rows: Vec<Row>,
    pub claims: Vec<Claim>,
    /// Itemised charges (费用明细) of the rows, in row order.
    pub charges: Vec<ChargeItem>,
    pub labels: Vec<Label>,
    /// Cases that did not group and were drawn again.
    pub resampled: u64,
    /// Behaviour draws that could not be injected (e.g. no higher group to upcode to).
    pub not_injected: u64,
    /// Where the next patient of this hospital-month comes from.
    pub(crate) cursor: PoolCursor,
}

/// Patients of a hospital come from its own pool of insured people (catchment). Within a year a
/// hospital walks a fixed permutation of its pool, each month its own segment, so nobody is
/// admitted twice at once (no natural overlapping or duplicate stays); the same people come back
/// in other years.
#[derive(Debug, Default, Clone)]
pub(crate) struct PoolCursor {
    offset: u64,
    size: u64,
    a: u64,
    b: u64,
    next: u64,
    end: u64,
}

impl PoolCursor {
    fn take(&mut self) -> Option<u64> {
        if self.next >= self.end || self.size == 0 {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.offset + ((self.a as u128 * i as u128 + self.b as u128) % self.size as u128) as u64)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// An insured person (参保人), derived from a hash of the seed and the person number so that the
/// same person has the same sex, birth date and insurance across all stays and years.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub sex: i64,
    pub birth: NaiveDate,
    pub insurance: InsuranceType,
    pub assistance: bool,
    pub county: usize,
}

/// Shared, read-only context of a region.
pub struct Ctx<'a> {
    pub g: &'a Grouper,
    pub cat: &'a Catalogue,
    pub cfg: &'a SynthConfig,
    pub hospitals: &'a [Hospital],
    /// Price index per year (first year = 1), 3–5 % yearly inflation.
    pub price: Vec<f64>,
    pub counties: usize,
    /// Per hospital: (first person number, pool size).
    pub pools: Vec<(u64, u64)>,
}

struct Stay {
    list: Box<SettlementList>,
    drg: String,
    adrg: String,
    kind: GroupKind,
    median_cost: f64,
    median_los: f64,
    recipe: usize,
    person: Person,
    /// Diagnoses whose treatment the charges show; `None` = all of the list's (an upcoded stay
    /// keeps the original case's diagnoses here).
    treated: Option<Vec<String>>,
}

const FEE_BASE: [[f64; 14]; 3] = [
    // bed consult exam lab treat surgery nursing material wdrug herbal patent general reg other
    [4.0, 1.0, 6.0, 8.0, 8.0, 18.0, 4.0, 25.0, 18.0, 0.5, 2.0, 0.5, 0.02, 5.0], // surgical
    [3.0, 1.0, 6.0, 7.0, 8.0, 10.0, 3.0, 38.0, 16.0, 0.3, 2.0, 0.5, 0.02, 5.0], // interventional
    [6.0, 1.5, 9.0, 14.0, 10.0, 0.5, 5.0, 6.0, 33.0, 2.0, 5.0, 1.0, 0.05, 7.0], // medical
];

fn days_in_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
    next.unwrap().pred_opt().unwrap().day()
}

fn at(d: NaiveDate, h: i64, m: i64) -> NaiveDateTime {
    d.and_hms_opt(h as u32, m as u32, 0).unwrap()
}

fn full_years(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut y = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    y.max(0) as i64
}

/// Department code (科室代码) by MDC and group type.
fn dept_for(mdc: &str, kind: GroupKind, age: i64, tcm: bool, r: &mut Rng) -> &'static str {
    let surg = kind != GroupKind::Medical;
    if tcm && !surg && rng::chance(r, 0.4) {
        return "50";
    }
    if age < 14 && !surg && mdc != "MDCP" {
        return "07";
    }
    match (mdc.as_bytes().get(3).copied().unwrap_or(b'X'), surg) {
        (b'A', _) => "28",
        (b'B', false) => "0303",
        (b'B', true) => "0402",
        (b'C', _) => "10",
        (b'D', _) => "11",
        (b'E', false) => "0301",
        (b'E', true) => "0405",
        (b'F', false) => "0304",
        (b'F', true) => {
            if kind == GroupKind::Interventional {
                "0304"
            } else {
                "0406"
            }
        }
        (b'G', false) | (b'H', false) => "0302",
        (b'G', true) | (b'H', true) => "0401",
        (b'I', _) => "0403",
        (b'J', false) => "13",
        (b'J', true) => "0401",
        (b'K', false) => "0307",
        (b'K', true) => "0401",
        (b'L', false) => "0306",
        (b'L', true) | (b'M', _) => "0404",
        (b'N', _) => "0501",
        (b'O', _) => "0502",
        (b'P', _) => "0701", // 新生儿专业
        (b'Q', _) => "0305",
        (b'R', _) => "19",
        (b'S', _) | (b'Y', _) => "16",
        (b'T', _) | (b'U', _) => "15",
        (b'V', _) | (b'Z', _) => "20",
        (b'W', _) => "0407",
        _ => "02",
    }
}

impl<'a> Ctx<'a> {
    pub fn new(g: &'a Grouper, cat: &'a Catalogue, cfg: &'a SynthConfig, hospitals: &'a [Hospital]) -> Ctx<'a> {
        let mut r = rng::substream(cfg.seed, &[0x7072_6963]);
        let mut price = vec![1.0];
        for _ in cfg.first_year..cfg.last_year {
            let (lo, hi) = cfg.cost.inflation;
            let inf = lo + (hi - lo) * rng::unit(&mut r);
            let last = *price.last().unwrap();
            price.push(last * (1.0 + inf));
        }
        let mut pools = Vec::with_capacity(hospitals.len());
        let mut off = 0u64;
        for h in hospitals {
            let size = (h.annual_volume * 3).max(360);
            pools.push((off, size));
            off += size;
        }
        Ctx { g, cat, cfg, hospitals, price, counties: cfg.profile.size().1, pools }
    }

    fn cursor(&self, hi: usize, year: i32, month: u32) -> PoolCursor {
        let (offset, size) = self.pools[hi];
        let h = rng::hash(self.cfg.seed, &[0x706f_6f6c, hi as u64, year as u64]);
        let mut a = (h % size).max(1);
        while gcd(a, size) != 1 {
            a += 1;
        }
        let b = rng::mix(h) % size;
        let seg = size / 12;
        PoolCursor { offset, size, a, b, next: seg * (month as u64 - 1), end: seg * month as u64 }
    }

    /// Person number → person (deterministic, independent of generation order).
    pub fn person(&self, pid: u64) -> Person {
        let h1 = rng::hash(self.cfg.seed, &[0x7065_7273, pid]);
        let h2 = rng::mix(h1);
        let h3 = rng::mix(h2);
        let u = (h2 >> 11) as f64 / (1u64 << 53) as f64;
        let v = (h3 >> 11) as f64 / (1u64 << 53) as f64;
        let age = if u < 0.08 {
            1.0 + 13.0 * v
        } else if u < 0.35 {
            15.0 + 30.0 * v
        } else if u < 0.65 {
            45.0 + 20.0 * v
        } else {
            65.0 + 30.0 * v * v.sqrt()
        } as i64;
        let reference = NaiveDate::from_ymd_opt(self.cfg.first_year + 1, 7, 1).unwrap();
        let birth = reference - Duration::days(age * 365 + (h3 % 365) as i64);
        let h4 = rng::mix(h3);
        let insurance = if age >= 18 && h4 % 1000 < 350 { InsuranceType::Employee } else { InsuranceType::Resident };
        let assistance = insurance == InsuranceType::Resident && (h4 >> 20) % 1000 < self.cfg.payer.assistance_share_permille;
        Person { id: format!("37{:010}", pid), sex: 1 + (h1 & 1) as i64, birth, insurance, assistance, county: (h4 >> 40) as usize % self.counties }
    }

    fn person_for(&self, demo: &Demo, sex_need: Option<i64>, admit: NaiveDate, r: &mut Rng, fresh_tag: String, cur: &mut PoolCursor) -> Person {
        if demo.infant {
            let days = if demo.newborn { (rng::unit(r).powi(2) * 28.0) as i64 } else { rng::range(r, 29, 360) };
            let sex = sex_need.or(demo.sex).unwrap_or(1 + rng::index(r, 2) as i64);
            return Person {
                id: format!("37B{fresh_tag}"),
                sex,
                birth: admit - Duration::days(days),
                insurance: InsuranceType::Resident,
                assistance: false,
                county: rng::index(r, self.counties),
            };
        }
        let sex = sex_need.or(demo.sex);
        for _ in 0..80 {
            let Some(pid) = cur.take() else { break };
            let p = self.person(pid);
            let age = full_years(p.birth, admit);
            if age < 1 || sex.is_some_and(|s| s != p.sex) {
                continue;
            }
            if demo.obstetric {
                if !(16..=48).contains(&age) {
                    continue;
                }
                // child-bearing: most births at 22–38
                if !(22..=38).contains(&age) && rng::chance(r, 0.7) {
                    continue;
                }
            }
            return p;
        }
        // no match in the pool: a fresh person meeting the constraints
        let age = if demo.obstetric { rng::range(r, 22, 38) } else { rng::range(r, 20, 80) };
        Person {
            id: format!("37F{fresh_tag}"),
            sex: sex.unwrap_or(1),
            birth: admit - Duration::days(age * 365 + rng::range(r, 0, 364)),
            insurance: InsuranceType::Resident,
            assistance: false,
            county: rng::index(r, self.counties),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pick_complication(&self, common: &[u32], all: &[u32], table: &rustc_hash::FxHashMap<u32, Box<str>>, principal: u32, sex: i64, taken: &[u32], r: &mut Rng) -> Option<u32> {
        let excl = self.cat.principal_excl.get(&principal);
        for _ in 0..8 {
            let pool = if !common.is_empty() && rng::chance(r, 0.7) { common } else { all };
            if pool.is_empty() {
                return None;
            }
            let c = pool[rng::index(r, pool.len())];
            if c == principal || taken.contains(&c) {
                continue;
            }
            if self.cat.sex_for(c).is_some_and(|s| s != sex) {
                continue;
            }
            if let (Some(e), Some(t)) = (excl, table.get(&c)) {
                if !e.is_empty() && e == t {
                    continue;
                }
            }
            return Some(c);
        }
        None
    }

    /// Builds the clinical part of a case of recipe `ri`; returns the list (no money, no dates
    /// except the admission) and the person.
    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_arguments)]
    fn clinical(&self, ri: usize, h: &Hospital, admit: NaiveDate, r: &mut Rng, tag: String, complications: bool, cur: &mut PoolCursor) -> (Box<SettlementList>, Person) {
        let rec: &Recipe = &self.cat.recipes[ri];
        let cat = self.cat;
        let main = if rec.main_dx.is_empty() { 0 } else { rec.main_dx[rng::index(r, rec.main_dx.len())] };
        let main_proc = if rec.main_proc.is_empty() { None } else { Some(rec.main_proc[rng::index(r, rec.main_proc.len())]) };
        let need_sex = cat.sex_for(main).or_else(|| main_proc.and_then(|x| cat.sex_for(x)));
        let p = self.person_for(&rec.demo, need_sex, admit, r, tag, cur);
        let age = full_years(p.birth, admit);
        let age_days = (admit - p.birth).num_days();
        let mut dx = vec![main];
        let mut poa = vec![Some(if rng::chance(r, 0.95) { Poa::Yes } else { Poa::Uncertain })];
        if let Some((regions, min)) = &rec.regions {
            let own = regions.iter().position(|g| g.contains(&main));
            let mut n = usize::from(own.is_some());
            for (ti, codes) in regions.iter().enumerate() {
                if n >= *min {
                    break;
                }
                if Some(ti) == own || codes.is_empty() {
                    continue;
                }
                dx.push(codes[rng::index(r, codes.len())]);
                poa.push(Some(Poa::Yes));
                n += 1;
            }
        }
        for l in &rec.extra_dx {
            if !l.is_empty() {
                dx.push(l[rng::index(r, l.len())]);
                poa.push(Some(Poa::Yes));
            }
        }
        // coding companions: the cancer of a chemo/radiotherapy stay, the external cause of an
        // injury, the outcome of a delivery
        let pcode = cat.code(main);
        if pcode.starts_with("Z51") && !cat.tumours.is_empty() {
            for _ in 0..4 {
                let t = cat.tumours[rng::index(r, cat.tumours.len())];
                if cat.sex_for(t).is_none_or(|s| s == p.sex) && !matches!((cat.code(t), p.sex), ("C61.x00", 2) | ("C53.900" | "C56.x00", 1)) {
                    dx.push(t);
                    poa.push(Some(Poa::Yes));
                    break;
                }
            }
        }
        if (pcode.starts_with('S') || pcode.starts_with('T')) && !cat.external.is_empty() {
            dx.push(cat.external[rng::index(r, cat.external.len())]);
            poa.push(Some(Poa::Yes));
        }
        if rec.demo.obstetric && (rec.name.contains("分娩") || rec.name.contains("剖宫产")) && pcode.starts_with('O') {
            if let Some(z) = cat.live_birth {
                dx.push(z);
                poa.push(Some(Poa::Yes));
            }
        }
        if pcode.starts_with("Z37") {
            if let Some(o) = cat.spontaneous {
                dx.push(o);
                poa.push(Some(Poa::Yes));
            }
        }
        let symptom_principal = pcode.starts_with('R');
        let newborn = rec.demo.infant;
        if complications {
            // chronic comorbidities rise with age
            if !newborn && age >= 18 && !symptom_principal {
                let n = (age / 30) as usize + rng::index(r, 2);
                for _ in 0..n.min(5) {
                    let c = cat.comorbid[rng::index(r, cat.comorbid.len())];
                    // not two codes of one category (E10 with E11, K29.7 with K29.x)
                    let same = cat.code(c).get(..2) == pcode.get(..2);
                    if !same && !dx.contains(&c) && cat.sex_for(c).is_none_or(|s| s == p.sex) {
                        dx.push(c);
                        poa.push(Some(Poa::Yes));
                    }
                }
            }
            // MCC / CC prevalence rises with age
            let a = (age.min(90) as f64) / 90.0;
            let (p_mcc, p_cc) = if newborn { (0.05, 0.10) } else if rec.demo.obstetric { (0.02, 0.08) } else { (0.02 + 0.12 * a, 0.07 + 0.25 * a) };
            let u = rng::unit(r);
            let (common, all, table) = if u < p_mcc {
                (&cat.mcc_common, if newborn { &cat.mcc_newborn } else { &cat.mcc_all }, &cat.mcc_table)
            } else if u < p_mcc + p_cc {
                (&cat.cc_common, if newborn { &cat.cc_newborn } else { &cat.cc_all }, &cat.cc_table)
            } else {
                (&cat.cc_common, &cat.cc_all, &cat.cc_table) // unused
            };
            if u < p_mcc + p_cc {
                let common: &[u32] = if newborn { &[] } else { common };
                let infant = newborn;
                let obstetric = rec.demo.obstetric;
                if let Some(c) = self.pick_complication(common, all, table, main, p.sex, &dx, r).filter(|c| {
                    let k = cat.code(*c);
                    (infant || !k.starts_with('P')) && (obstetric || !k.starts_with('O'))
                }) {
                    dx.push(c);
                    let x = rng::unit(r);
                    poa.push(Some(if x < 0.7 { Poa::Yes } else if x < 0.9 { Poa::No } else { Poa::Uncertain }));
                }
            }
        }
        let mut px = Vec::new();
        if let Some(mp) = main_proc {
            px.push(mp);
            for l in &rec.extra_proc {
                if !l.is_empty() {
                    let c = l[rng::index(r, l.len())];
                    if !px.contains(&c) {
                        px.push(c);
                    }
                }
            }
        }
        let mut l = Box::new(SettlementList {
            hospital_code: Some(h.code.clone()),
            hospital_name: Some(h.name.clone()),
            insured_id: Some(p.id.clone()),
            record_no: Some(format!("{:08}", rng::hash(0, &[rng::str_hash(&p.id), h.index as u64]) % 100_000_000)),
            insurance_type: Some(p.insurance),
            sex: Some(Sex::from_code(p.sex)),
            birth_date: Some(p.birth),
            age_years: Some(age),
            age_days: if age == 0 { Some(age_days) } else { None },
            diagnoses: dx.iter().map(|&c| cat.code(c).to_string()).collect(),
            diagnosis_poa: poa,
            procedures: px.iter().map(|&c| cat.code(c).to_string()).collect(),
            payment_method: Some(PaymentMethod::Drg),
            ..Default::default()
        });
        if age == 0 && age_days <= 28 {
            let bw = match rec.demo.bw {
                Some((lo, hi)) => rng::range(r, lo.max(600), hi.min(4800) - 1),
                None => {
                    if rec.demo.newborn || rng::chance(r, 0.9) {
                        (3300.0 + 420.0 * normal(r)).clamp(2500.0, 4600.0) as i64
                    } else {
                        rng::range(r, 1000, 2499)
                    }
                }
            };
            l.birth_weight_g = Some(bw / 10 * 10);
            l.admit_weight_g = Some((bw + age_days * 20 - 150).max(500) / 10 * 10);
        } else if age == 0 {
            l.admit_weight_g = Some((3300 + age_days * 22) / 10 * 10);
        }
        l.dept = Some(dept_for(&rec.mdc, rec.kind, age, h.tcm, r).to_string());
        (l, p)
    }

    fn group(&self, l: &SettlementList) -> (bool, String, String) {
        let res = self.g.group(&l.group_input());
        (res.is_grouped(), if res.is_grouped() { res.drg.to_string() } else { String::new() }, res.adrg.to_string())
    }

    /// Median cost (fen) and LOS of a grouped case at hospital `h` in year index `yi`.
    fn medians(&self, drg: &str, adrg: &str, fallback_recipe: usize, h: &Hospital, yi: usize) -> (f64, f64, GroupKind) {
        let c = &self.cfg.cost;
        let ri = self.cat.adrg_ix.get(adrg).copied().unwrap_or(fallback_recipe);
        let rec = &self.cat.recipes[ri];
        let kind = if drg.is_empty() { GroupKind::Medical } else { GroupKind::of_adrg(adrg) };
        let sev = if drg.is_empty() { 2 } else { severity_index(drg) };
        let type_f = match kind {
            GroupKind::Surgical => c.surgical_factor,
            GroupKind::Interventional => c.interventional_factor,
            GroupKind::Medical => 1.0,
        };
        let lv = h.level.index();
        let cost = c.base_median_fen * type_f * c.severity_factor[sev] * rec.cost_factor * c.level_cost[lv] * self.price[yi];
        let los = c.base_los[kind.index()] * c.severity_los[sev] * rec.los_factor * c.level_los[lv];
        (cost, los.max(1.0), kind)
    }

    /// A complete ordinary stay of recipe `ri` discharged on `discharge` (dates fixed later for
    /// split admissions). `complications` = draw MCC/CC by age.
    #[allow(clippy::too_many_arguments)]
    fn stay(&self, ri: usize, h: &Hospital, yi: usize, discharge: NaiveDate, r: &mut Rng, tag: String, chunk: &mut Chunk) -> Stay {
        let mut ri = ri;
        let mut attempt = 0;
        loop {
            // the admission date is needed for age; use a provisional one and fix after LOS
            let provisional = discharge - Duration::days(7);
            let (mut l, p) = self.clinical(ri, h, provisional, r, format!("{tag}{attempt}"), true, &mut chunk.cursor);
            let ungroupable = attempt == 0 && rng::chance(r, self.cfg.ungroupable_rate) && !self.cat.unplaceable_dx.is_empty();
            if ungroupable {
                let d = self.cat.unplaceable_dx[rng::index(r, self.cat.unplaceable_dx.len())];
                l.diagnoses[0] = self.cat.code(d).to_string();
                l.procedures.clear();
            }
            let (grouped, drg, adrg) = self.group(&l);
            if !grouped && !ungroupable && attempt < 8 {
                chunk.resampled += 1;
                attempt += 1;
                ri = self.cat.by_level[h.level.index()].pick(r);
                continue;
            }
            let (mc, ml, kind) = self.medians(&drg, &adrg, ri, h, yi);
            let mut s = Stay { list: l, drg, adrg, kind, median_cost: mc, median_los: ml, recipe: ri, person: p, treated: None };
            self.outcome_and_money(&mut s, h, discharge, r, None, None);
            return s;
        }
    }

    /// Draws LOS, leaving type, ICU, dates, fees and the payer split. `force_los` / `force_cost`
    /// override the draws (injected behaviours).
    fn outcome_and_money(&self, s: &mut Stay, h: &Hospital, discharge: NaiveDate, r: &mut Rng, force_los: Option<i64>, force_cost: Option<f64>) {
        let c = &self.cfg.cost;
        let k = s.kind.index();
        let z1 = normal(r);
        let z2 = normal(r);
        let mut los = (s.median_los * (c.sigma_los[k] * z1).exp()).round().clamp(1.0, c.natural_los_cap as f64) as i64;
        let sev = if s.drg.is_empty() { 2 } else { severity_index(&s.drg) };
        let age = s.list.age_years.unwrap_or(40);
        let mut pd = c.death_prob[sev] * if s.kind == GroupKind::Medical { 1.0 } else { 0.6 };
        if age >= 75 {
            pd *= 2.0;
        }
        if s.list.age_years == Some(0) {
            pd *= 0.4;
        }
        let u = rng::unit(r);
        let leaving = if force_los.is_some() || force_cost.is_some() {
            LeavingType::OrderDischarge
        } else if u < pd {
            los = ((los as f64) * 0.6).round().max(1.0) as i64;
            LeavingType::Death
        } else if u < pd + 0.015 {
            LeavingType::OrderTransfer
        } else if u < pd + 0.025 {
            LeavingType::OrderCommunity
        } else if u < pd + 0.05 {
            LeavingType::NonOrder
        } else if u < pd + 0.055 {
            LeavingType::Other
        } else {
            LeavingType::OrderDischarge
        };
        if let Some(f) = force_los {
            los = f;
        }
        let rho = c.rho_cost_los;
        let mut cost = s.median_cost * (c.sigma_cost[k] * (rho * z1 + (1.0 - rho * rho).sqrt() * z2)).exp();
        if let Some(f) = force_cost {
            cost = f;
        }
        let total = Fen(((cost / 100.0).round() as i64 * 100).max(30_000) + rng::range(r, 0, 99));
        self.set_dates(s, discharge, los, r);
        s.list.leaving_type = Some(leaving);
        let route = rng::unit(r);
        s.list.admit_route = Some(if route < 0.3 {
            AdmitRoute::Emergency
        } else if route < 0.95 {
            AdmitRoute::Outpatient
        } else if route < 0.98 {
            AdmitRoute::Transfer
        } else {
            AdmitRoute::Other
        });
        s.list.admit_dept = s.list.dept.clone();
        if s.list.admit_route == Some(AdmitRoute::Emergency) && rng::chance(r, 0.1) {
            s.list.admit_dept = Some("20".into());
        }
        let chemo = self.cat.recipes[s.recipe].chemo;
        let planned = chemo && leaving != LeavingType::Death && rng::chance(r, 0.7);
        s.list.readmit_plan_31d = Some(if planned { ReadmitPlan::Yes } else { ReadmitPlan::No });
        // ICU and ventilation
        let vent_proc = s.list.procedures.iter().find(|p| p.starts_with("96.7")).cloned();
        let mut icu = 0i64;
        let mut vent = 0i64;
        if let Some(p) = vent_proc {
            let lo = if p.starts_with("96.72") { 9_600 } else { 2_400 };
            let hi = if p.starts_with("96.72") { (los * 2_400).max(9_700) } else { 9_500 };
            vent = rng::range(r, lo, hi.max(lo));
            icu = vent + rng::range(r, 0, 4_800);
        } else if (sev == 0 && rng::chance(r, 0.3)) || (leaving == LeavingType::Death && rng::chance(r, 0.6)) {
            icu = rng::range(r, 1_200, (los * 2_400).clamp(1_300, 24_000));
        }
        s.list.icu_hours = Some(Centi(icu / 100 * 100));
        s.list.vent_hours = Some(Centi(vent / 100 * 100));
        self.set_fees(s, h, total, los, r);
    }

    fn set_dates(&self, s: &mut Stay, discharge: NaiveDate, los: i64, r: &mut Rng) {
        let admit = discharge - Duration::days(los);
        // ages are computed at admission
        if let (Some(0), Some(days)) = (s.list.age_years, s.list.age_days) {
            // an infant keeps the age in days it was coded (and grouped) with
            s.list.birth_date = Some(admit - Duration::days(days));
            s.person.birth = admit - Duration::days(days);
        }
        if let Some(b) = s.list.birth_date {
            let age = full_years(b, admit);
            s.list.age_years = Some(age);
            let days = (admit - b).num_days();
            s.list.age_days = if age == 0 { Some(days.max(0)) } else { None };
        }
        s.list.los_days = Some(los);
        s.list.admit_time = Some(at(admit, rng::range(r, 7, 21), rng::range(r, 0, 59)));
        s.list.discharge_time = Some(at(discharge, rng::range(r, 8, 17), rng::range(r, 0, 59)));
        let pday = admit + Duration::days(if los > 1 { rng::range(r, 0, (los - 1).min(3)) } else { 0 });
        s.list.procedure_dates = s.list.procedures.iter().map(|_| Some(at(pday, rng::range(r, 8, 16), 0))).collect();
    }

    /// 14 fee categories summing exactly to `total`, then the payer split.
    fn set_fees(&self, s: &mut Stay, h: &Hospital, total: Fen, los: i64, r: &mut Rng) {
        let k = s.kind.index();
        let mut w = [0u64; 14];
        let stay_ratio = (los as f64 / s.median_los).clamp(0.3, 4.0);
        for (i, base) in FEE_BASE[k].iter().enumerate() {
            let mut x = base * (0.3 * normal(r)).exp();
            if i == FeeKind::Bed.index() || i == FeeKind::Nursing.index() {
                x *= stay_ratio;
            }
            if h.tcm && (i == FeeKind::Herbal.index() || i == FeeKind::PatentTcm.index()) {
                x *= 4.0;
            }
            if i == FeeKind::Surgery.index() && s.list.procedures.is_empty() {
                x = 0.0; // no surgery fee without a procedure
            }
            w[i] = (x * 1_000_000.0) as u64;
        }
        s.list.fees = apportion(total, &w).map(Some);
        s.list.total_cost = Some(total);
        self.set_payer(s, h, r);
    }

    /// Payer split (config::PayerPolicy): every step rounds down to the fen; the personal part
    /// takes the remainder so that fund + supplementary + assistance + personal = total exactly.
    fn set_payer(&self, s: &mut Stay, h: &Hospital, r: &mut Rng) {
        let pol = &self.cfg.payer;
        let lv = h.level.index();
        let total = s.list.fee_sum();
        s.list.total_cost = Some(total);
        let (lo, hi) = pol.selfpay_permille[lv];
        let selfpay = share(total, rng::range(r, lo as i64, hi as i64) as u64, 1000);
        let incat = total - selfpay;
        let class_b = share(incat, pol.class_b_copay_permille, 1000);
        let eligible = incat - class_b;
        let employee = s.list.insurance_type == Some(InsuranceType::Employee);
        let ded = Fen(if employee { pol.deductible_employee[lv] } else { pol.deductible_resident[lv] }).min(eligible);
        let ratio = if employee { pol.ratio_employee_permille[lv] } else { pol.ratio_resident_permille[lv] };
        let fund = share(eligible - ded, ratio, 1000);
        let personal_incat = incat - fund;
        let supp = if personal_incat.0 > pol.critical_threshold {
            share(personal_incat - Fen(pol.critical_threshold), pol.critical_ratio_permille, 1000)
        } else {
            Fen::ZERO
        };
        let assist = if s.person.assistance { share(personal_incat - supp, pol.assistance_ratio_permille, 1000) } else { Fen::ZERO };
        s.list.selfpay_items = Some(selfpay);
        s.list.fund_pay = Some(fund);
        s.list.supplementary_pay = Some(supp);
        s.list.assistance_pay = Some(assist);
        s.list.personal_pay = Some(total - fund - supp - assist);
    }

    fn discharge_day(&self, year: i32, month: u32, r: &mut Rng) -> NaiveDate {
        let d = rng::range(r, 1, days_in_month(year, month) as i64) as u32;
        NaiveDate::from_ymd_opt(year, month, d).unwrap()
    }

    fn year_bounds(&self) -> (NaiveDate, NaiveDate) {
        (NaiveDate::from_ymd_opt(self.cfg.first_year, 1, 1).unwrap(), NaiveDate::from_ymd_opt(self.cfg.last_year, 12, 31).unwrap())
    }

    /// Number of stays of hospital `h` in `year`/`month` (seasonal: winter high, Spring Festival
    /// low; yearly growth).
    pub fn month_volume(&self, h: &Hospital, yi: usize, month: u32, r: &mut Rng) -> u64 {
        const SEASON: [f64; 12] = [1.05, 0.85, 1.0, 1.0, 0.98, 0.95, 1.0, 1.0, 0.98, 0.97, 1.08, 1.14];
        let x = h.annual_volume as f64 / 12.0 * SEASON[month as usize - 1] * (1.0 + self.cfg.volume_growth).powi(yi as i32);
        let f = x.floor();
        (f as u64) + u64::from(rng::chance(r, x - f))
    }

    /// Generates hospital `hi`'s stays discharged in `year`/`month`.
    pub fn chunk(&self, hi: usize, year: i32, month: u32) -> Chunk {
        let h = &self.hospitals[hi];
        let yi = (year - self.cfg.first_year) as usize;
        let mut r = hospitals::hospital_rng(self.cfg.seed, year, month, hi);
        let n = self.month_volume(h, yi, month, &mut r);
        let mut ch = Chunk { rows: Vec::with_capacity(n as usize + 8), cursor: self.cursor(hi, year, month), ..Default::default() };
        let mut seq = 0u64;
        let mut cseq = 0u64;
        let rates: Vec<f64> = Kind::ALL.iter().map(|k| h.rate(self.cfg.inject.rates.get(k).copied().unwrap_or(0.0), *k)).collect();
        let ym = format!("{year:04}{month:02}");
        for _ in 0..n {
            let u = rng::unit(&mut r);
            let mut acc = 0.0;
            let mut kind = None;
            for (i, k) in Kind::ALL.iter().enumerate() {
                acc += rates[i];
                if u < acc {
                    kind = Some(*k);
                    break;
                }
            }
            let next_id = |seq: &mut u64| {
                *seq += 1;
                format!("{}{}{:06}", h.code, ym, *seq)
            };
            let id = next_id(&mut seq);
            let ok = match kind {
                None => {
                    let s = self.ordinary(h, yi, year, month, &mut r, &id, &mut ch);
                    self.emit(s, &id, &mut ch, h, &mut r, &mut cseq, &ym);
                    true
                }
                Some(k) => self.inject(k, h, yi, year, month, &mut r, id, &mut seq, &mut cseq, &ym, &mut ch),
            };
            if !ok {
                ch.not_injected += 1;
            }
        }
        ch
    }

    #[allow(clippy::too_many_arguments)]
    fn ordinary(&self, h: &Hospital, yi: usize, year: i32, month: u32, r: &mut Rng, id: &str, ch: &mut Chunk) -> Stay {
        let ri = self.cat.by_level[h.level.index()].pick(r);
        let d = self.discharge_day(year, month, r);
        self.stay(ri, h, yi, d, r, id.to_string(), ch)
    }

    /// Pushes a stay and its background outpatient/pharmacy claims.
    #[allow(clippy::too_many_arguments)]
    fn emit(&self, mut s: Stay, id: &str, ch: &mut Chunk, h: &Hospital, r: &mut Rng, cseq: &mut u64, ym: &str) {
        s.list.list_id = id.to_string();
        let (lo, hi) = self.year_bounds();
        let admit = s.list.admit_time.unwrap().date();
        let dis = s.list.discharge_time.unwrap().date();
        // background claims, ≥ 10 days away from the stay
        for (p, kind) in [(0.5, ProviderKind::HospitalOutpatient), (0.35, ProviderKind::Pharmacy)] {
            if !rng::chance(r, p) {
                continue;
            }
            let off = rng::range(r, 10, 120);
            let day = if rng::chance(r, 0.5) { admit - Duration::days(off) } else { dis + Duration::days(off) };
            if day < lo || day > hi {
                continue;
            }
            *cseq += 1;
            let c = self.claim(&s, h, kind, day, r, format!("C{}{}{:06}", h.code, ym, *cseq), None);
            ch.claims.push(c);
        }
        // itemised charges from their own stream (keyed by list id), so the lists and claims
        // do not depend on the charge model
        if self.cfg.charges.enabled {
            let mut cr = rng::substream(self.cfg.seed, &[0x6368_6172, rng::str_hash(id)]);
            let treated = s.treated.as_deref().unwrap_or(&s.list.diagnoses);
            crate::charges::stay_charges(&s.list, treated, s.kind != GroupKind::Medical, &self.cfg.charges, &mut cr, &mut ch.charges);
        }
        ch.rows.push(Row { list: s.list, drg: s.drg, adrg: s.adrg });
    }

    /// An outpatient or pharmacy claim of the stay's person. `moved` = (exam, lab, drug) fen
    /// carried over from a stay (cost shifting); otherwise a small ordinary claim.
    #[allow(clippy::too_many_arguments)]
    fn claim(&self, s: &Stay, h: &Hospital, kind: ProviderKind, day: NaiveDate, r: &mut Rng, id: String, moved: Option<(Fen, Fen, Fen)>) -> Claim {
        let outpatient = kind == ProviderKind::HospitalOutpatient;
        let provider = if outpatient { h.code.clone() } else { hospitals::pharmacy_code(h.county_index, rng::index(r, 3)) };
        let mut c = Claim {
            claim_id: id,
            insured_id: s.person.id.clone(),
            provider_code: provider,
            provider_kind: Some(kind),
            claim_time: Some(at(day, rng::range(r, 8, 18), rng::range(r, 0, 59))),
            diagnoses: if outpatient { vec![s.list.diagnoses[0].clone()] } else { Vec::new() },
            ..Default::default()
        };
        match moved {
            Some((exam, lab, drug)) => {
                c.fee_exam = exam;
                c.fee_lab = lab;
                c.fee_western_drug = drug;
            }
            None => {
                if outpatient {
                    c.fee_exam = Fen(rng::range(r, 0, 300) * 100);
                    c.fee_lab = Fen(rng::range(r, 0, 200) * 100 + rng::range(r, 0, 99));
                    c.fee_treatment = Fen(rng::range(r, 0, 50) * 100);
                    c.fee_western_drug = Fen(rng::range(r, 20, 400) * 100 + rng::range(r, 0, 99));
                    c.fee_patent_tcm = if rng::chance(r, 0.3) { Fen(rng::range(r, 20, 200) * 100) } else { Fen::ZERO };
                } else {
                    c.fee_western_drug = Fen(rng::range(r, 15, 300) * 100 + rng::range(r, 0, 99));
                    c.fee_patent_tcm = if rng::chance(r, 0.4) { Fen(rng::range(r, 10, 150) * 100) } else { Fen::ZERO };
                    c.fee_herbal = if rng::chance(r, 0.1) { Fen(rng::range(r, 30, 300) * 100) } else { Fen::ZERO };
                }
            }
        }
        c.total_cost = c.fee_sum();
        // outpatient pooling pays half at hospitals; pharmacy purchases are paid from the
        // personal account (fund_pay 0) — both exact in fen, rounded down
        c.fund_pay = if outpatient { share(c.total_cost, 500, 1000) } else { Fen::ZERO };
        c
    }

    /// Injects one behaviour. Returns false when it could not be injected (an ordinary stay is
    /// emitted instead, unlabelled).
    #[allow(clippy::too_many_arguments)]
    fn inject(&self, k: Kind, h: &Hospital, yi: usize, year: i32, month: u32, r: &mut Rng, id: String, seq: &mut u64, cseq: &mut u64, ym: &str, ch: &mut Chunk) -> bool {
        let inj = &self.cfg.inject;
        let lv = h.level.index();
        let next_id = |seq: &mut u64| {
            *seq += 1;
            format!("{}{}{:06}", h.code, ym, *seq)
        };
        match k {
            Kind::Upcoding => {
                for _ in 0..4 {
                    let mut s = self.ordinary(h, yi, year, month, r, &id, ch);
                    if s.drg.is_empty() {
                        continue;
                    }
                    let principal = self.cat.ix.get(s.list.diagnoses[0].as_str()).copied().unwrap_or(0);
                    let sex = s.person.sex;
                    // (a) an MCC added without resources
                    if severity_index(&s.drg) != 0 {
                        let taken: Vec<u32> = s.list.diagnoses.iter().filter_map(|d| self.cat.ix.get(d.as_str()).copied()).collect();
                        for _ in 0..3 {
                            let Some(c) = self.pick_complication(&self.cat.mcc_common, &self.cat.mcc_all, &self.cat.mcc_table, principal, sex, &taken, r) else { break };
                            let mut l2 = s.list.clone();
                            l2.diagnoses.push(self.cat.code(c).to_string());
                            l2.diagnosis_poa.push(Some(Poa::Yes));
                            let (g, drg, adrg) = self.group(&l2);
                            if g && adrg == s.adrg && severity_index(&drg) < severity_index(&s.drg) {
                                let note = format!(
                                    "加入严重并发症 {} 而无相应诊疗资源消耗：{} → {}（费用 {} 元、住院 {} 天为原组水平）",
                                    self.cat.code(c),
                                    s.drg,
                                    drg,
                                    s.list.total(),
                                    s.list.los_days.unwrap_or(0)
                                );
                                s.treated = Some(s.list.diagnoses.clone());
                                s.list = l2;
                                s.drg = drg;
                                ch.labels.push(Label { id: id.clone(), kind: k, related_id: String::new(), note });
                                self.emit(s, &id, ch, h, r, cseq, ym);
                                return true;
                            }
                        }
                    }
                    // (b) principal diagnosis swapped to a costlier medical sibling of the same MDC
                    if s.kind == GroupKind::Medical && s.list.procedures.is_empty() {
                        let rec = &self.cat.recipes[s.recipe];
                        let cands: Vec<usize> = (0..self.cat.recipes.len())
                            .filter(|&i| {
                                let x = &self.cat.recipes[i];
                                x.verified && x.mdc == rec.mdc && x.kind == GroupKind::Medical && x.cost_factor > rec.cost_factor * 1.2 && x.main_proc.is_empty() && x.extra_dx.is_empty() && x.regions.is_none()
                            })
                            .collect();
                        if cands.is_empty() {
                            continue;
                        }
                        let x = &self.cat.recipes[cands[rng::index(r, cands.len())]];
                        let d = x.main_dx[rng::index(r, x.main_dx.len())];
                        if self.cat.sex_for(d).is_some_and(|q| q != sex) {
                            continue;
                        }
                        let mut l2 = s.list.clone();
                        let old = l2.diagnoses[0].clone();
                        l2.diagnoses[0] = self.cat.code(d).to_string();
                        let (g, drg, adrg) = self.group(&l2);
                        if g && adrg == x.adrg {
                            let note = format!(
                                "主要诊断由 {} 改为更高权重的 {}：{} → {}（费用 {} 元、住院 {} 天为原组水平）",
                                old,
                                l2.diagnoses[0],
                                s.drg,
                                drg,
                                s.list.total(),
                                s.list.los_days.unwrap_or(0)
                            );
                            s.treated = Some(s.list.diagnoses.clone());
                            s.list = l2;
                            s.drg = drg;
                            s.adrg = adrg;
                            ch.labels.push(Label { id: id.clone(), kind: k, related_id: String::new(), note });
                            self.emit(s, &id, ch, h, r, cseq, ym);
                            return true;
                        }
                    }
                }
                let s = self.ordinary(h, yi, year, month, r, &id, ch);
                self.emit(s, &id, ch, h, r, cseq, ym);
                false
            }
            Kind::SplitAdmission => {
                let (gl, gh) = inj.split_gap_days;
                let gap = rng::range(r, gl, gh);
                let ri = self.cat.by_level[lv].pick(r);
                let d2 = self.discharge_day(year, month, r);
                let mut s1 = self.stay(ri, h, yi, d2, r, id.clone(), ch);
                if s1.drg.is_empty() || s1.list.age_years == Some(0) {
                    self.emit(s1, &id, ch, h, r, cseq, ym);
                    return false;
                }
                let total_los = s1.list.los_days.unwrap_or(4).max(4);
                let a = (total_los + 1) / 2;
                let b = (total_los - a).max(1).min(27 - gap);
                let dim = days_in_month(year, month) as i64;
                let day2 = rng::range(r, (b + gap + 1).min(dim), dim);
                let dis2 = NaiveDate::from_ymd_opt(year, month, day2 as u32).unwrap();
                let admit2 = dis2 - Duration::days(b);
                let dis1 = admit2 - Duration::days(gap);
                let cost = s1.list.total().0 as f64;
                let part = 0.5 + 0.15 * rng::unit(r);
                let mut s2 = Stay { list: s1.list.clone(), drg: s1.drg.clone(), adrg: s1.adrg.clone(), kind: s1.kind, median_cost: s1.median_cost, median_los: s1.median_los, recipe: s1.recipe, person: s1.person.clone(), treated: None };
                self.outcome_and_money(&mut s1, h, dis1, r, Some(a), Some(cost * part));
                self.outcome_and_money(&mut s2, h, dis2, r, Some(b), Some(cost * (1.1 - part)));
                s1.list.readmit_plan_31d = Some(ReadmitPlan::No);
                s2.list.admit_route = Some(AdmitRoute::Outpatient);
                let (g2, drg2, adrg2) = self.group(&s2.list);
                let (g1, drg1, adrg1) = self.group(&s1.list);
                if !(g1 && g2 && adrg1 == adrg2) {
                    self.emit(s1, &id, ch, h, r, cseq, ym);
                    return false;
                }
                s1.drg = drg1;
                s2.drg = drg2;
                s2.adrg = adrg2;
                let id2 = next_id(seq);
                ch.labels.push(Label {
                    id: id2.clone(),
                    kind: k,
                    related_id: id.clone(),
                    note: format!("同一参保人同一医院出院后 {gap} 天再入院，同一 ADRG {}（原为一次住院 {total_los} 天）", s2.adrg),
                });
                self.emit(s1, &id, ch, h, r, cseq, ym);
                self.emit(s2, &id2, ch, h, r, cseq, ym);
                true
            }
            Kind::LowStandardAdmission => {
                if self.cat.outpatient_like.is_empty() {
                    let s = self.ordinary(h, yi, year, month, r, &id, ch);
                    self.emit(s, &id, ch, h, r, cseq, ym);
                    return false;
                }
                let ri = self.cat.outpatient_like.pick(r);
                let d = self.discharge_day(year, month, r);
                let provisional = d - Duration::days(2);
                let (l, p) = self.clinical(ri, h, provisional, r, id.clone(), false, &mut ch.cursor);
                let (g, drg, adrg) = self.group(&l);
                if !g {
                    let s = self.ordinary(h, yi, year, month, r, &id, ch);
                    self.emit(s, &id, ch, h, r, cseq, ym);
                    return false;
                }
                let (mc, ml, kind) = self.medians(&drg, &adrg, ri, h, yi);
                let mut s = Stay { list: l, drg, adrg, kind, median_cost: mc, median_los: ml, recipe: ri, person: p, treated: None };
                let (a, b) = inj.low_standard_los;
                let los = rng::range(r, a, b);
                let (x, y) = inj.low_standard_cost_share;
                let f = x + (y - x) * rng::unit(r);
                self.outcome_and_money(&mut s, h, d, r, Some(los), Some(mc * f));
                s.list.admit_route = Some(AdmitRoute::Outpatient);
                ch.labels.push(Label {
                    id: id.clone(),
                    kind: k,
                    related_id: String::new(),
                    note: format!("门诊可治疗的病情收治入院：住院 {los} 天，费用 {} 元，约为该组中位费用的 {:.0}%", s.list.total(), f * 100.0),
                });
                self.emit(s, &id, ch, h, r, cseq, ym);
                true
            }
            Kind::CostShifting => {
                let mut s = self.ordinary(h, yi, year, month, r, &id, ch);
                let (lo, hi) = self.year_bounds();
                let admit = s.list.admit_time.unwrap().date();
                let dis = s.list.discharge_time.unwrap().date();
                let w = inj.shift_window_days;
                let off = rng::range(r, 1, w);
                let before = rng::chance(r, 0.5);
                let mut day = if before { admit - Duration::days(off) } else { dis + Duration::days(off) };
                let mut before = before;
                if day < lo || day > hi {
                    before = !before;
                    day = if before { admit - Duration::days(off) } else { dis + Duration::days(off) };
                }
                if s.list.leaving_type == Some(LeavingType::Death) || day < lo || day > hi {
                    self.emit(s, &id, ch, h, r, cseq, ym);
                    return false;
                }
                let kind = if rng::chance(r, 0.5) { ProviderKind::HospitalOutpatient } else { ProviderKind::Pharmacy };
                let part = rng::range(r, 300, 600) as u64; // ‰ moved out of the stay
                let drug = share(s.list.fee(FeeKind::WesternDrug), part, 1000);
                let (exam, lab) = if kind == ProviderKind::HospitalOutpatient {
                    (share(s.list.fee(FeeKind::Exam), part, 1000), share(s.list.fee(FeeKind::Lab), part, 1000))
                } else {
                    (Fen::ZERO, Fen::ZERO)
                };
                if (drug + exam + lab).0 < 10_000 {
                    self.emit(s, &id, ch, h, r, cseq, ym);
                    return false;
                }
                s.list.fees[FeeKind::WesternDrug.index()] = Some(s.list.fee(FeeKind::WesternDrug) - drug);
                s.list.fees[FeeKind::Exam.index()] = Some(s.list.fee(FeeKind::Exam) - exam);
                s.list.fees[FeeKind::Lab.index()] = Some(s.list.fee(FeeKind::Lab) - lab);
                self.set_payer(&mut s, h, r);
                *cseq += 1;
                let cid = format!("C{}{}{:06}", h.code, ym, *cseq);
                let c = self.claim(&s, h, kind, day, r, cid.clone(), Some((exam, lab, drug)));
                let note = format!(
                    "{}{} {} 天{}结算 {} 元（西药 {}、检查 {}、化验 {}），住院费用相应减少",
                    if before { "入院前" } else { "出院后" },
                    off,
                    "",
                    if kind == ProviderKind::HospitalOutpatient { "于本院门诊" } else { "于定点药店" },
                    c.total_cost,
                    drug,
                    exam,
                    lab
                )
                .replace("  天", "天");
                ch.claims.push(c);
                ch.labels.push(Label { id: id.clone(), kind: k, related_id: cid, note });
                self.emit(s, &id, ch, h, r, cseq, ym);
                true
            }
            Kind::UnderProvision => {
                for _ in 0..4 {
                    let ri = self.cat.surgical_by_level[lv].pick(r);
                    let d = self.discharge_day(year, month, r);
                    let mut s = self.stay(ri, h, yi, d, r, id.clone(), ch);
                    if s.drg.is_empty() || s.kind != GroupKind::Surgical || s.list.fee(FeeKind::Surgery).0 < 10_000 {
                        continue; // not a surgical group after grouping: draw another
                    }
                    let (a, b) = inj.under_provision_keep;
                    let keep = ((a + (b - a) * rng::unit(r)) * 1000.0) as u64;
                    let missing = rng::chance(r, 0.5);
                    let sur0 = s.list.fee(FeeKind::Surgery);
                    let mat0 = s.list.fee(FeeKind::Material);
                    let sur = if missing { Fen::ZERO } else { share(sur0, keep, 1000) };
                    let mat = share(mat0, keep, 1000);
                    s.list.fees[FeeKind::Surgery.index()] = Some(sur);
                    s.list.fees[FeeKind::Material.index()] = Some(mat);
                    self.set_payer(&mut s, h, r);
                    let note = if missing {
                        format!("手术组病例无手术费（原应约 {sur0} 元），材料费 {mat} 元（原应约 {mat0} 元）")
                    } else {
                        format!("手术组病例手术费 {sur} 元、材料费 {mat} 元，远低于该组常规（约 {sur0} 元、{mat0} 元）")
                    };
                    ch.labels.push(Label { id: id.clone(), kind: k, related_id: String::new(), note });
                    self.emit(s, &id, ch, h, r, cseq, ym);
                    return true;
                }
                let s = self.ordinary(h, yi, year, month, r, &id, ch);
                self.emit(s, &id, ch, h, r, cseq, ym);
                false
            }
            Kind::OverlongStay => {
                let ri = self.cat.by_level[lv].pick(r);
                let d = self.discharge_day(year, month, r);
                let mut s = self.stay(ri, h, yi, d, r, id.clone(), ch);
                let (a, b) = inj.overlong_days;
                let los = rng::range(r, a, b);
                let norm = s.median_los;
                let cost = s.median_cost * (1.0 + 0.5 * (los as f64 / norm - 1.0).max(0.0));
                self.outcome_and_money(&mut s, h, d, r, Some(los), Some(cost));
                ch.labels.push(Label {
                    id: id.clone(),
                    kind: k,
                    related_id: String::new(),
                    note: format!("住院 {los} 天，远超该组常规（约 {:.0} 天），超过 60 天", norm),
                });
                self.emit(s, &id, ch, h, r, cseq, ym);
                true
            }
            Kind::DuplicateList => {
                let s = self.ordinary(h, yi, year, month, r, &id, ch);
                let mut copy = Stay { list: s.list.clone(), drg: s.drg.clone(), adrg: s.adrg.clone(), kind: s.kind, median_cost: s.median_cost, median_los: s.median_los, recipe: s.recipe, person: s.person.clone(), treated: s.treated.clone() };
                let first_charge = ch.charges.len();
                self.emit(s, &id, ch, h, r, cseq, ym);
                let id2 = next_id(seq);
                copy.list.list_id = id2.clone();
                // the same stay: the same itemised charges under the copy's list id
                for i in first_charge..ch.charges.len() {
                    let mut c = ch.charges[i].clone();
                    c.list_id = id2.clone();
                    ch.charges.push(c);
                }
                ch.labels.push(Label {
                    id: id2.clone(),
                    kind: k,
                    related_id: id.clone(),
                    note: "同一住院（同一参保人、医院、入出院时间、费用）以不同清单流水号重复提交".into(),
                });
                // the copy carries no background claims of its own
                ch.rows.push(Row { list: copy.list, drg: copy.drg, adrg: copy.adrg });
                true
            }
        }
    }
}
