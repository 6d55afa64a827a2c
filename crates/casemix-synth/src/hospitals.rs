//! The hospital roster of a region: level, Wuxi-style tier, county, beds, TCM flag, key
//! disciplines and annual volume. A few large tertiary hospitals carry most of the volume.

use crate::config::{Kind, SynthConfig};
use crate::rng::{self, Rng};
use serde::Serialize;

/// Hospital level (医院等级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// 三级甲等
    TertiaryA,
    /// 三级
    Tertiary,
    /// 二级
    Secondary,
    /// 一级
    Primary,
}

impl Level {
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::TertiaryA => "三级甲等",
            Level::Tertiary => "三级",
            Level::Secondary => "二级",
            Level::Primary => "一级",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One designated hospital (定点医疗机构).
#[derive(Debug, Clone, Serialize)]
pub struct Hospital {
    pub code: String,
    pub name: String,
    pub level: Level,
    /// Wuxi-style tier 1–3 (1 = 三级甲等, 2 = other 三级 and 二级 with ≥ 400 beds, 3 = the rest).
    pub tier: u8,
    pub county: String,
    pub beds: u32,
    pub tcm: bool,
    pub key_disciplines: Vec<String>,
    /// Inpatient cases in the first year (the generator's target; later years grow).
    pub annual_volume: u64,
    /// Index among hospitals.
    pub index: usize,
    pub county_index: usize,
    /// Multiplier of every injection rate at this hospital (bad actors ≫ 1).
    pub behaviour: f64,
    /// Per-kind multiplier on top of `behaviour` (a bad actor specialises).
    pub kind_bias: [f64; 7],
    /// One of the few hospitals that concentrate the injected behaviour.
    pub bad_actor: bool,
}

impl Hospital {
    pub fn is_bad_actor(&self) -> bool {
        self.bad_actor
    }
    pub fn rate(&self, base: f64, k: Kind) -> f64 {
        let i = Kind::ALL.iter().position(|x| *x == k).unwrap_or(0);
        (base * self.behaviour * self.kind_bias[i]).min(0.25)
    }
}

pub const COUNTIES: &[&str] = &[
    "市辖区", "东城区", "西湖区", "南山县", "北河县", "临江县", "青石县", "白云县", "松山县", "柳林县", "桃源县", "清水县",
];

const DISCIPLINES: &[&str] = &[
    "心血管内科", "神经内科", "呼吸内科", "消化内科", "肿瘤科", "骨科", "普通外科", "神经外科", "泌尿外科", "妇产科",
    "儿科", "眼科", "重症医学科", "肾病科", "内分泌科", "中医科",
];

fn county_name(i: usize) -> String {
    if i < COUNTIES.len() {
        COUNTIES[i].to_string()
    } else {
        format!("第{}县", i + 1)
    }
}

/// Builds the roster. Deterministic by seed.
pub fn roster(cfg: &SynthConfig) -> Vec<Hospital> {
    let (n, counties, _) = cfg.profile.size();
    let mut r = rng::substream(cfg.seed, &[0x686f_7370]);
    // level mix: ~12 % 三甲, 13 % 三级, 45 % 二级, 30 % 一级, at least one 三甲
    let mut levels = Vec::with_capacity(n);
    for i in 0..n {
        let f = (i as f64 + 0.5) / n as f64;
        levels.push(if f < 0.12 || i == 0 {
            Level::TertiaryA
        } else if f < 0.25 {
            Level::Tertiary
        } else if f < 0.70 {
            Level::Secondary
        } else {
            Level::Primary
        });
    }
    let mut seq = vec![0usize; counties];
    let mut out = Vec::with_capacity(n);
    let mut weights = Vec::with_capacity(n);
    for (i, &level) in levels.iter().enumerate() {
        // tertiary hospitals sit in the city districts (county 0/1); the rest spread
        let county_index = match level {
            Level::TertiaryA | Level::Tertiary => i % counties.min(2),
            _ => i % counties,
        };
        seq[county_index] += 1;
        let beds = match level {
            Level::TertiaryA => rng::range(&mut r, 1_200, 3_000),
            Level::Tertiary => rng::range(&mut r, 500, 1_200),
            Level::Secondary => rng::range(&mut r, 150, 600),
            Level::Primary => rng::range(&mut r, 20, 99),
        } as u32;
        // one TCM hospital among the first secondary/tertiary ones, ~15 % overall
        let tcm = (i == 2 && n >= 3) || (i > 2 && level != Level::Primary && rng::chance(&mut r, 0.15));
        let turnover = match level {
            Level::TertiaryA => 38.0,
            Level::Tertiary => 32.0,
            Level::Secondary => 26.0,
            Level::Primary => 16.0,
        };
        weights.push(beds as f64 * turnover * (0.8 + 0.4 * rng::unit(&mut r)));
        let county = county_name(county_index);
        let name = match (level, tcm) {
            (Level::TertiaryA, false) if i == 0 => format!("{county}第一人民医院"),
            (Level::TertiaryA, false) => format!("{county}中心医院{}", seq[county_index]),
            (_, true) => format!("{county}中医医院{}", seq[county_index]),
            (Level::Tertiary, false) => format!("{county}人民医院{}", seq[county_index]),
            (Level::Secondary, false) => format!("{county}第{}医院", seq[county_index]),
            (Level::Primary, false) => format!("{county}卫生院{}", seq[county_index]),
        };
        let nd = match level {
            Level::TertiaryA => rng::range(&mut r, 3, 6),
            Level::Tertiary => rng::range(&mut r, 1, 3),
            Level::Secondary => rng::range(&mut r, 0, 1),
            Level::Primary => 0,
        } as usize;
        let mut key = Vec::new();
        if tcm && nd > 0 {
            key.push("中医科".to_string());
        }
        while key.len() < nd {
            let d = DISCIPLINES[rng::index(&mut r, DISCIPLINES.len())].to_string();
            if !key.contains(&d) {
                key.push(d);
            }
        }
        let tier = match level {
            Level::TertiaryA => 1,
            Level::Tertiary => 2,
            Level::Secondary if beds >= 400 => 2,
            _ => 3,
        };
        out.push(Hospital {
            code: format!("H37{:02}{:02}{:05}", 10 + county_index % 90, county_index / 90, i + 1),
            name,
            level,
            tier,
            county,
            beds,
            tcm,
            key_disciplines: key,
            annual_volume: 0,
            index: i,
            county_index,
            behaviour: 1.0,
            kind_bias: [1.0; 7],
            bad_actor: false,
        });
    }
    // volumes: proportional to beds × turnover, scaled to the profile's total (largest remainder)
    let total = cfg.cases_per_year();
    let wsum: f64 = weights.iter().sum();
    let mut given = 0u64;
    let mut fr: Vec<(f64, usize)> = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        let x = total as f64 * w / wsum;
        out[i].annual_volume = x.floor() as u64;
        given += x.floor() as u64;
        fr.push((x - x.floor(), i));
    }
    fr.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
    for k in 0..(total - given) as usize {
        out[fr[k % n].1].annual_volume += 1;
    }
    // bad actors: ≈ bad_actor_share of hospitals (at least one, never the first), drawn with
    // probability ∝ volume without replacement; they inject bad_actor_ratio × a good hospital's
    // rate, and both multipliers keep the volume-weighted mean at 1 (region rate = configured).
    let nb = ((n as f64 * cfg.inject.bad_actor_share).round() as usize).clamp(1, n.saturating_sub(1).max(1));
    let mut pool: Vec<usize> = (1..n).collect();
    let mut bad: Vec<usize> = Vec::with_capacity(nb);
    while bad.len() < nb && !pool.is_empty() {
        let w = rng::Weighted::new(pool.iter().map(|&i| out[i].annual_volume as f64 + 1.0));
        let k = w.pick(&mut r);
        bad.push(pool.remove(k));
    }
    bad.sort_unstable();
    let vol_bad: f64 = bad.iter().map(|&i| out[i].annual_volume as f64).sum();
    let vol_all: f64 = out.iter().map(|h| h.annual_volume as f64).sum::<f64>().max(1.0);
    let ratio = cfg.inject.bad_actor_ratio.max(1.0);
    let good_m = vol_all / (vol_bad * ratio + (vol_all - vol_bad));
    for h in out.iter_mut() {
        h.behaviour = if bad.contains(&h.index) { good_m * ratio } else { good_m };
    }
    for &i in &bad {
        out[i].bad_actor = true;
        let mut b = [0.0; 7];
        for x in b.iter_mut() {
            *x = 0.4 + 1.2 * rng::unit(&mut r);
        }
        let m = b.iter().sum::<f64>() / 7.0;
        for x in b.iter_mut() {
            *x /= m;
        }
        out[i].kind_bias = b;
    }
    out
}

/// A pharmacy (定点药店) code of a county.
pub fn pharmacy_code(county_index: usize, k: usize) -> String {
    format!("P37{:02}{:02}{:05}", 10 + county_index % 90, county_index / 90, k + 1)
}

/// Used by the generator's per-case streams.
pub fn hospital_rng(seed: u64, year: i32, month: u32, h: usize) -> Rng {
    rng::substream(seed, &[0x6361_7365, year as u64, month as u64, h as u64])
}
