//! Code classes (sex-specific, age-specific, not-principal, asterisk, …) read from the crate's own
//! data file `data/code_classes.tsv` (authored for Casemix with ICD-10 / ICD-9-CM-3 chapter
//! rationale per row). Each class is one bit of a `u64` mask.

/// The classes the rules use. The order is the bit position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    ExternalCause,
    Obstetric,
    PregnancyZ,
    DeliveryOutcome,
    PregnantIncidental,
    Delivery,
    SpontaneousDelivery,
    CaesareanDelivery,
    Perinatal,
    Liveborn,
    FemaleGenital,
    FemaleNeoplasm,
    FemaleOther,
    MaleGenital,
    MaleNeoplasm,
    MaleOther,
    FemalePx,
    ObstetricPx,
    MalePx,
    CaesareanPx,
    VentAnyPx,
    VentShortPx,
    VentLongPx,
    FamilyHistory,
    PersonalHistory,
    Status,
    Psychosocial,
    Examination,
    Symptom,
    IllDefinedDeath,
    Death,
    Sequela,
    Injury,
    Neoplasm,
    ChemoRadio,
    Hiv,
    HivAsymptomatic,
    DiabetesT1,
    DiabetesT2,
    Senility,
    Menopause,
    ProstateHyperplasia,
    LbwExtreme,
    LbwOther,
    LbwAny,
    LargeBaby,
    Asterisk,
}

impl Class {
    pub fn bit(self) -> u64 {
        1u64 << (self as u8)
    }
    fn from_name(s: &str) -> Option<Class> {
        use Class::*;
        Some(match s {
            "external_cause" => ExternalCause,
            "obstetric" => Obstetric,
            "pregnancy_z" => PregnancyZ,
            "delivery_outcome" => DeliveryOutcome,
            "pregnant_incidental" => PregnantIncidental,
            "delivery" => Delivery,
            "spontaneous_delivery" => SpontaneousDelivery,
            "caesarean_delivery" => CaesareanDelivery,
            "perinatal" => Perinatal,
            "liveborn" => Liveborn,
            "female_genital" => FemaleGenital,
            "female_neoplasm" => FemaleNeoplasm,
            "female_other" => FemaleOther,
            "male_genital" => MaleGenital,
            "male_neoplasm" => MaleNeoplasm,
            "male_other" => MaleOther,
            "female_px" => FemalePx,
            "obstetric_px" => ObstetricPx,
            "male_px" => MalePx,
            "caesarean_px" => CaesareanPx,
            "vent_any_px" => VentAnyPx,
            "vent_short_px" => VentShortPx,
            "vent_long_px" => VentLongPx,
            "family_history" => FamilyHistory,
            "personal_history" => PersonalHistory,
            "status" => Status,
            "psychosocial" => Psychosocial,
            "examination" => Examination,
            "symptom" => Symptom,
            "ill_defined_death" => IllDefinedDeath,
            "death" => Death,
            "sequela" => Sequela,
            "injury" => Injury,
            "neoplasm" => Neoplasm,
            "chemo_radio" => ChemoRadio,
            "hiv" => Hiv,
            "hiv_asymptomatic" => HivAsymptomatic,
            "diabetes_t1" => DiabetesT1,
            "diabetes_t2" => DiabetesT2,
            "senility" => Senility,
            "menopause" => Menopause,
            "prostate_hyperplasia" => ProstateHyperplasia,
            "lbw_extreme" => LbwExtreme,
            "lbw_other" => LbwOther,
            "lbw_any" => LbwAny,
            "large_baby" => LargeBaby,
            "asterisk" => Asterisk,
            _ => return None,
        })
    }
}

/// The data file, compiled into the crate.
pub const CODE_CLASSES_TSV: &str = include_str!("../data/code_classes.tsv");

#[derive(Debug, Clone)]
struct Range {
    class: Class,
    from: Box<str>,
    to: Box<str>,
}

/// Compiled class ranges, split by code kind.
#[derive(Debug, Clone, Default)]
pub struct ClassTable {
    dx: Vec<Range>,
    px: Vec<Range>,
}

fn prefix(code: &str, n: usize) -> &str {
    // byte-wise truncation on a char boundary (codes are ASCII; anything else just compares)
    let mut n = n.min(code.len());
    while !code.is_char_boundary(n) {
        n -= 1;
    }
    &code[..n]
}

impl ClassTable {
    /// Parses `code_classes.tsv`. Panics only on a malformed built-in file (checked by a test).
    pub fn builtin() -> ClassTable {
        ClassTable::parse(CODE_CLASSES_TSV).expect("built-in code_classes.tsv is valid")
    }

    pub fn parse(text: &str) -> Result<ClassTable, String> {
        let mut t = ClassTable::default();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() != 5 {
                return Err(format!("code_classes.tsv 第{}行应有5列", i + 1));
            }
            let class = Class::from_name(c[0]).ok_or_else(|| format!("code_classes.tsv 第{}行：未知类别 {}", i + 1, c[0]))?;
            let r = Range { class, from: c[2].into(), to: c[3].into() };
            match c[1] {
                "dx" => t.dx.push(r),
                "px" => t.px.push(r),
                other => return Err(format!("code_classes.tsv 第{}行：未知编码类型 {other}", i + 1)),
            }
        }
        Ok(t)
    }

    fn mask(ranges: &[Range], code: &str) -> u64 {
        let mut m = 0;
        for r in ranges {
            if prefix(code, r.from.len()) >= &*r.from && prefix(code, r.to.len()) <= &*r.to {
                m |= r.class.bit();
            }
        }
        m
    }
    pub fn dx_mask(&self, code: &str) -> u64 {
        Self::mask(&self.dx, code)
    }
    pub fn px_mask(&self, code: &str) -> u64 {
        Self::mask(&self.px, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn builtin_table_parses_and_classifies() {
        let t = ClassTable::builtin();
        assert!(t.dx_mask("O80.000") & Class::Obstetric.bit() != 0);
        assert!(t.dx_mask("O80.000") & Class::SpontaneousDelivery.bit() != 0);
        assert!(t.dx_mask("V09.000") & Class::ExternalCause.bit() != 0);
        assert!(t.dx_mask("Y98") & Class::ExternalCause.bit() != 0);
        assert_eq!(t.dx_mask("Y99.000") & Class::ExternalCause.bit(), 0);
        assert!(t.dx_mask("D07.500") & Class::MaleNeoplasm.bit() != 0);
        assert_eq!(t.dx_mask("D07.300") & Class::MaleNeoplasm.bit(), 0);
        assert!(t.px_mask("74.0x00") & Class::CaesareanPx.bit() != 0);
        assert!(t.px_mask("68.4100") & Class::FemalePx.bit() != 0);
        assert!(t.px_mask("96.7200") & Class::VentLongPx.bit() != 0);
        assert_eq!(t.px_mask("96.7200") & Class::VentShortPx.bit(), 0);
        assert_eq!(t.dx_mask("K35.800"), 0);
    }
}
