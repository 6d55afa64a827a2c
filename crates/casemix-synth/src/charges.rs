//! Itemised charges (费用明细) of a stay: a small item catalogue, the synthetic region's
//! treatment modules (which items the treatment of a diagnosis leaves in the charges) and the
//! exact split of each fee category over its items.
//!
//! The modules here are the *generator's* clinical knowledge (what hospitals do); the audit
//! keeps its own rule table (casemix-audit `data/treatment_modules.tsv`) and never reads this.

use crate::config::ChargeModel;
use crate::money::apportion_vec;
use crate::rng::{self, Rng};
use casemix_model::{Centi, ChargeItem, FeeKind, Fen, SettlementList};

/// One chargeable item: code, name, category and a nominal unit price (fen) for quantities.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub code: &'static str,
    pub name: &'static str,
    pub category: FeeKind,
    pub unit_fen: i64,
}

const fn it(code: &'static str, name: &'static str, category: FeeKind, unit_fen: i64) -> Item {
    Item { code, name, category, unit_fen }
}

use FeeKind as K;

// ---- treatment items ----
const ANTIBIO_CEF: Item = it("D-ANTIBIO-01", "注射用头孢曲松钠", K::WesternDrug, 2_800);
const ANTIBIO_FQ: Item = it("D-ANTIBIO-02", "莫西沙星氯化钠注射液", K::WesternDrug, 6_500);
const ANTIBIO_CARB: Item = it("D-ANTIBIO-03", "注射用美罗培南", K::WesternDrug, 16_000);
const ANTIBIO_PROPH: Item = it("D-ANTIBIO-PROPH", "注射用头孢唑林钠（围手术期预防）", K::WesternDrug, 1_200);
const INSULIN: Item = it("D-INSULIN-01", "门冬胰岛素注射液", K::WesternDrug, 7_800);
const METFORMIN: Item = it("D-ORALHYPO-01", "盐酸二甲双胍片", K::WesternDrug, 900);
const DIURETIC: Item = it("D-DIURETIC-01", "呋塞米注射液", K::WesternDrug, 300);
const KCL: Item = it("D-KCL-01", "氯化钾注射液", K::WesternDrug, 200);
const BRONCHO: Item = it("D-BRONCHO-01", "多索茶碱注射液", K::WesternDrug, 2_500);
const STEROID_INH: Item = it("D-STEROID-INH", "吸入用布地奈德混悬液", K::WesternDrug, 1_800);
const ANTICOAG: Item = it("D-ANTICOAG-01", "低分子肝素钙注射液", K::WesternDrug, 3_500);
const ANTICOAG_ORAL: Item = it("D-ANTICOAG-02", "华法林钠片", K::WesternDrug, 500);
const VASOPRESSOR: Item = it("D-VASOPRESS-01", "重酒石酸去甲肾上腺素注射液", K::WesternDrug, 1_500);
const HEPATO: Item = it("D-HEPATO-01", "注射用还原型谷胱甘肽", K::WesternDrug, 4_000);
const PPI: Item = it("D-PPI-01", "注射用奥美拉唑钠", K::WesternDrug, 2_200);
const EPO: Item = it("D-EPO-01", "重组人促红素注射液", K::WesternDrug, 9_000);
const ANTIHYPERT: Item = it("D-ANTIHYPERT-01", "苯磺酸氨氯地平片", K::WesternDrug, 600);
const ANTIPLT: Item = it("D-ANTIPLT-01", "阿司匹林肠溶片", K::WesternDrug, 300);
const STATIN: Item = it("D-STATIN-01", "阿托伐他汀钙片", K::WesternDrug, 700);
const MANNITOL: Item = it("D-MANNITOL-01", "甘露醇注射液", K::WesternDrug, 800);
const IRON: Item = it("D-IRON-01", "蔗糖铁注射液", K::WesternDrug, 6_000);
const ANTIPSY: Item = it("D-PSYCH-01", "奥氮平片", K::WesternDrug, 1_500);
const CHEMO: Item = it("D-CHEMO-01", "注射用奥沙利铂", K::WesternDrug, 60_000);
const BLOODGAS: Item = it("L-BLOODGAS", "血气分析", K::Lab, 4_000);
const SPUTUM_CULT: Item = it("L-CULT-SPUTUM", "痰培养及药敏", K::Lab, 8_000);
const BLOOD_CULT: Item = it("L-CULT-BLOOD", "血培养及药敏", K::Lab, 12_000);
const URINE_CULT: Item = it("L-CULT-URINE", "尿培养及药敏", K::Lab, 8_000);
const PCT: Item = it("L-PCT", "降钙素原测定", K::Lab, 15_000);
const LACTATE: Item = it("L-LACTATE", "血乳酸测定", K::Lab, 3_000);
const GLUCOSE: Item = it("L-GLUCOSE", "末梢血糖监测", K::Lab, 500);
const HBA1C: Item = it("L-HBA1C", "糖化血红蛋白测定", K::Lab, 6_000);
const ELECTRO: Item = it("L-ELECTRO", "电解质测定", K::Lab, 2_000);
const RENAL: Item = it("L-RENAL", "肾功能测定", K::Lab, 3_000);
const BNP: Item = it("L-BNP", "N端脑钠肽前体测定", K::Lab, 18_000);
const DDIMER: Item = it("L-DDIMER", "D-二聚体测定", K::Lab, 6_000);
const TROPONIN: Item = it("L-TROPONIN", "肌钙蛋白测定", K::Lab, 9_000);
const LIVER: Item = it("L-LIVER", "肝功能测定", K::Lab, 4_000);
const AMMONIA: Item = it("L-AMMONIA", "血氨测定", K::Lab, 2_500);
const COAG: Item = it("L-COAG", "凝血功能测定", K::Lab, 5_000);
const CROSSMATCH: Item = it("L-CROSSMATCH", "交叉配血", K::Lab, 3_000);
const OCCULT: Item = it("L-OCCULT", "粪便隐血试验", K::Lab, 1_000);
const TUMOUR_MARK: Item = it("L-TUMOURMARK", "肿瘤标志物测定", K::Lab, 12_000);
const BILIRUBIN: Item = it("L-BILI-NEO", "新生儿胆红素测定", K::Lab, 2_000);
const CT_CHEST: Item = it("E-CT-CHEST", "胸部CT平扫", K::Exam, 26_000);
const XR_CHEST: Item = it("E-XR-CHEST", "胸部X线摄影", K::Exam, 8_000);
const CTPA: Item = it("E-CT-PA", "肺动脉CT血管成像", K::Exam, 90_000);
const CT_HEAD: Item = it("E-CT-HEAD", "头颅CT平扫", K::Exam, 22_000);
const MRI_HEAD: Item = it("E-MRI-HEAD", "头颅磁共振平扫", K::Exam, 55_000);
const EEG: Item = it("E-EEG", "脑电图", K::Exam, 12_000);
const ECHO: Item = it("E-ECHO", "超声心动图", K::Exam, 20_000);
const HOLTER: Item = it("E-HOLTER", "动态心电图", K::Exam, 15_000);
const GASTROSCOPY: Item = it("E-ENDO-GASTRO", "电子胃镜检查", K::Exam, 30_000);
const US_ABD: Item = it("E-US-ABD", "腹部彩色多普勒超声", K::Exam, 16_000);
const US_OBST: Item = it("E-US-OBST", "产科超声检查", K::Exam, 15_000);
const XR_BONE: Item = it("E-XR-BONE", "骨与关节X线摄影", K::Exam, 9_000);
const PSYCH: Item = it("E-PSYCH-SCALE", "精神科量表测评", K::Exam, 5_000);
const OXYGEN: Item = it("T-OXYGEN", "氧气吸入", K::Treatment, 300);
const NIV: Item = it("T-NIV", "无创辅助通气", K::Treatment, 20_000);
const DIALYSIS: Item = it("T-DIALYSIS", "血液透析", K::Treatment, 45_000);
const CVC: Item = it("T-CVC", "中心静脉穿刺置管术", K::Treatment, 30_000);
const TRANSFUSION: Item = it("T-TRANSFUSION", "输血（悬浮红细胞）", K::Treatment, 25_000);
const MONITOR: Item = it("T-MONITOR", "心电监护", K::Treatment, 1_000);
const DEBRIDE: Item = it("T-DEBRIDE", "清创缝合", K::Treatment, 8_000);
const PHOTOTHERAPY: Item = it("T-PHOTO", "新生儿蓝光治疗", K::Treatment, 3_000);
const DRESSING: Item = it("M-DRESSING", "医用敷料", K::Material, 1_500);

// ---- background items (any stay) ----
const BED: Item = it("B-BED", "床位费", K::Bed, 4_000);
const CONSULT: Item = it("C-CONSULT", "住院诊查费", K::Consult, 1_500);
const CBC: Item = it("L-CBC", "血常规", K::Lab, 2_000);
const BIOCHEM: Item = it("L-BIOCHEM", "生化常规", K::Lab, 10_000);
const URINE: Item = it("L-URINE", "尿常规", K::Lab, 1_000);
const ECG: Item = it("E-ECG", "常规心电图", K::Exam, 2_500);
const INFUSION: Item = it("T-INFUSION", "静脉输液", K::Treatment, 800);
const INJECTION: Item = it("T-INJECT", "肌肉注射", K::Treatment, 300);
const SURGERY: Item = it("S-SURG", "手术费", K::Surgery, 200_000);
const ANAESTH: Item = it("S-ANAES", "麻醉费", K::Surgery, 60_000);
const NURSING: Item = it("N-NURSE", "二级护理", K::Nursing, 2_500);
const IV_SET: Item = it("M-IVSET", "一次性输液器", K::Material, 300);
const SYRINGE: Item = it("M-SYRINGE", "一次性注射器", K::Material, 100);
const IMPLANT: Item = it("M-IMPLANT", "植入性耗材", K::Material, 500_000);
const SALINE: Item = it("D-SALINE", "氯化钠注射液", K::WesternDrug, 300);
const GLUC_INF: Item = it("D-GLUC-INF", "葡萄糖注射液", K::WesternDrug, 300);
const HERBAL: Item = it("H-HERBAL", "中药饮片", K::Herbal, 3_000);
const PATENT: Item = it("P-PATENT", "中成药", K::PatentTcm, 3_000);
const GENERAL: Item = it("G-GENERAL", "一般诊疗费", K::General, 1_000);
const REGISTRATION: Item = it("R-REG", "挂号费", K::Registration, 100);
const OTHER: Item = it("O-OTHER", "其他费用（取暖、陪护等）", K::Other, 2_000);

/// Background items per fee category (one of them at least is charged when the category has
/// money), in [`FeeKind`] order.
const BACKGROUND: [&[Item]; 14] = [
    &[BED],
    &[CONSULT],
    &[ECG, US_ABD],
    &[CBC, BIOCHEM, URINE],
    &[INFUSION, INJECTION],
    &[SURGERY, ANAESTH],
    &[NURSING],
    &[IV_SET, SYRINGE],
    &[SALINE, GLUC_INF],
    &[HERBAL],
    &[PATENT],
    &[GENERAL],
    &[REGISTRATION],
    &[OTHER],
];

/// Treatment modules by ICD-10 code prefix (longest prefix wins; one letter = chapter fallback).
/// Prefixes cover the scheme's common MCC/CC diagnoses (sepsis, respiratory/heart/renal/hepatic
/// failure, shock, pneumonia, electrolyte disorders, bleeding …) and every chapter.
pub const MODULES: &[(&str, &[Item])] = &[
    ("A41", &[BLOOD_CULT, PCT, ANTIBIO_CARB]),
    ("R65", &[PCT, BLOOD_CULT, ANTIBIO_CARB, LACTATE]),
    ("R57", &[VASOPRESSOR, LACTATE, CVC, MONITOR]),
    ("J13", &[ANTIBIO_CEF, CT_CHEST, SPUTUM_CULT]),
    ("J15", &[ANTIBIO_FQ, CT_CHEST, SPUTUM_CULT]),
    ("J18", &[ANTIBIO_CEF, XR_CHEST, CT_CHEST, SPUTUM_CULT]),
    ("J44", &[BRONCHO, STEROID_INH, BLOODGAS]),
    ("J81", &[DIURETIC, BLOODGAS, XR_CHEST]),
    ("J96", &[BLOODGAS, OXYGEN, NIV]),
    ("J98", &[XR_CHEST, OXYGEN, BLOODGAS]),
    ("I10", &[ANTIHYPERT]),
    ("I21", &[TROPONIN, ANTIPLT, ECHO]),
    ("I25", &[ANTIPLT, STATIN]),
    ("I26", &[ANTICOAG, CTPA, DDIMER]),
    ("I48", &[ANTICOAG_ORAL, HOLTER]),
    ("I50", &[DIURETIC, BNP, ECHO]),
    ("I60", &[CT_HEAD, MANNITOL, MONITOR]),
    ("I61", &[CT_HEAD, MANNITOL, MONITOR]),
    ("I63", &[CT_HEAD, ANTIPLT, STATIN]),
    ("E10", &[INSULIN, GLUCOSE, HBA1C]),
    ("E11", &[INSULIN, METFORMIN, GLUCOSE, HBA1C]),
    ("E78", &[STATIN]),
    ("E87", &[ELECTRO, KCL]),
    ("N17", &[RENAL, ELECTRO, DIALYSIS]),
    ("N18", &[RENAL, DIALYSIS, EPO]),
    ("N39", &[URINE_CULT, ANTIBIO_CEF]),
    ("K72", &[LIVER, AMMONIA, HEPATO]),
    ("K76", &[LIVER, US_ABD]),
    ("K92", &[PPI, GASTROSCOPY, OCCULT, TRANSFUSION]),
    ("K29", &[PPI, GASTROSCOPY]),
    ("D62", &[TRANSFUSION, CROSSMATCH]),
    ("D64", &[IRON, CROSSMATCH]),
    ("G93", &[MRI_HEAD, EEG]),
    ("R40", &[CT_HEAD, MONITOR, BLOODGAS]),
    // chapter fallbacks
    ("A", &[ANTIBIO_CEF, PCT]),
    ("B", &[ANTIBIO_CEF, PCT]),
    ("C", &[TUMOUR_MARK, CT_CHEST, CHEMO]),
    ("D", &[COAG, CROSSMATCH]),
    ("E", &[ELECTRO, GLUCOSE]),
    ("F", &[PSYCH, ANTIPSY]),
    ("G", &[MRI_HEAD, EEG]),
    ("I", &[ECHO, HOLTER, MONITOR]),
    ("J", &[XR_CHEST, OXYGEN]),
    ("K", &[PPI, LIVER]),
    ("N", &[RENAL, URINE_CULT]),
    ("O", &[US_OBST, COAG]),
    ("P", &[BILIRUBIN, PHOTOTHERAPY]),
    ("Q", &[ECHO]),
    ("R", &[MONITOR]),
    ("S", &[XR_BONE, DEBRIDE, DRESSING]),
    ("T", &[XR_BONE, DEBRIDE, DRESSING]),
];

/// The module of a diagnosis code: the longest matching prefix.
pub fn module_of(code: &str) -> Option<&'static [Item]> {
    MODULES.iter().filter(|(p, _)| code.starts_with(p)).max_by_key(|(p, _)| p.len()).map(|(_, items)| *items)
}

/// The itemised charges of one stay. `treated` = the diagnoses whose treatment was given (the
/// list's diagnoses, minus one added by upcoding). Per category, the items' amounts are the
/// category's fee apportioned exactly (largest remainder, `money::apportion_vec`), so Σ items of
/// a category = the category's fee to the fen. Items that would get 0 fen are dropped.
pub fn stay_charges(l: &SettlementList, treated: &[String], surgical: bool, m: &ChargeModel, r: &mut Rng, out: &mut Vec<ChargeItem>) {
    // (item, weight) per category; the first background item of each category is always there
    let mut per: [Vec<(Item, u64)>; 14] = Default::default();
    let add = |per: &mut [Vec<(Item, u64)>; 14], item: Item, w: u64| {
        let v = &mut per[item.category.index()];
        if let Some(x) = v.iter_mut().find(|x| x.0.code == item.code) {
            x.1 += w;
        } else {
            v.push((item, w));
        }
    };
    for dx in treated {
        let Some(module) = module_of(dx) else { continue };
        if rng::chance(r, m.treatment_missing_prob) {
            continue;
        }
        for item in module {
            if rng::chance(r, m.treatment_item_prob) {
                add(&mut per, *item, rng::range(r, 20, 100) as u64);
            }
        }
    }
    if surgical && rng::chance(r, m.prophylaxis_prob) {
        add(&mut per, ANTIBIO_PROPH, rng::range(r, 5, 20) as u64);
    }
    if l.procedures.iter().any(|p| !p.is_empty()) && l.fee(FeeKind::Material).0 > 200_000 {
        add(&mut per, IMPLANT, 200);
    }
    for (k, bg) in BACKGROUND.iter().enumerate() {
        let fee = l.fees[k].unwrap_or(Fen::ZERO);
        if fee.0 <= 0 {
            continue;
        }
        // background: the first always, the others by chance; they carry most of the money of
        // their category so module items keep plausible amounts
        for (j, item) in bg.iter().enumerate() {
            if j == 0 || rng::chance(r, 0.6) {
                add(&mut per, *item, rng::range(r, 60, 200) as u64);
            }
        }
        let items = &per[k];
        let weights: Vec<u64> = items.iter().map(|x| x.1).collect();
        let parts = apportion_vec(fee, &weights);
        for ((item, _), amount) in items.iter().zip(parts) {
            if amount.0 <= 0 {
                continue;
            }
            let q = (amount.0 / item.unit_fen.max(1)).max(1);
            out.push(ChargeItem {
                list_id: l.list_id.clone(),
                item_code: item.code.to_string(),
                item_name: item.name.to_string(),
                category: item.category,
                quantity: Centi::from_whole(q),
                amount,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_take_the_longest_prefix() {
        assert_eq!(module_of("J18.900").unwrap()[0].code, "D-ANTIBIO-01");
        assert_eq!(module_of("J06.900").unwrap()[0].code, "E-XR-CHEST"); // chapter J fallback
        assert_eq!(module_of("A41.900").unwrap()[0].code, "L-CULT-BLOOD");
        assert!(module_of("Z51.100").is_none());
    }

    #[test]
    fn charges_sum_exactly_to_each_category() {
        let mut l = SettlementList { list_id: "L1".into(), diagnoses: vec!["J18.900".into(), "N17.900".into()], ..Default::default() };
        for (i, f) in l.fees.iter_mut().enumerate() {
            *f = Some(Fen(100_001 * i as i64 + 7)); // 7, 100008, 200009, …
        }
        l.fees[FeeKind::Surgery.index()] = Some(Fen::ZERO);
        let mut r = rng::substream(1, &[1]);
        let m = ChargeModel { enabled: true, treatment_missing_prob: 0.0, treatment_item_prob: 1.0, prophylaxis_prob: 0.0 };
        let mut out = Vec::new();
        stay_charges(&l, &l.diagnoses.clone(), false, &m, &mut r, &mut out);
        for k in FeeKind::ALL {
            let s: Fen = out.iter().filter(|c| c.category == k).map(|c| c.amount).sum();
            assert_eq!(s, l.fee(k), "{k:?}");
        }
        // every item of both modules is there (probabilities 1)
        for code in ["D-ANTIBIO-01", "E-XR-CHEST", "E-CT-CHEST", "L-CULT-SPUTUM", "L-RENAL", "L-ELECTRO", "T-DIALYSIS"] {
            assert!(out.iter().any(|c| c.item_code == code), "{code}");
        }
        assert!(out.iter().all(|c| c.amount.0 > 0 && c.list_id == "L1"));
        assert!(!out.iter().any(|c| c.category == FeeKind::Surgery));
    }
}
