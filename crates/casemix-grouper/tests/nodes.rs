//! Unit tests for every condition node (FORMAT.md §5) and every outcome (§3, §4, §6, §8), on small
//! hand-written schemes. Each test says how its expected group follows from the scheme text.

use casemix_grouper::{Grouper, Outcome, SchemeFiles};
use casemix_model::{Centi, GroupInput};
use serde_json::{json, Value};

const CHECKS: &str = r#"[
 {"message":"病人性别为空","fail_when":{"op":"not","arg":{"op":"present","field":"sex"}}},
 {"message":"病人性别取值必须为1或2","fail_when":{"op":"not","arg":{"op":"in_set","field":"sex","values":[1,2]}}},
 {"message":"病人年龄为空","fail_when":{"op":"not","arg":{"op":"present","field":"age_years"}}},
 {"message":"病人年龄0时，年龄天数必须有值","fail_when":{"op":"and","args":[{"op":"cmp","field":"age_years","cmp":"==","value":0},{"op":"not","arg":{"op":"present","field":"age_days"}}]}},
 {"message":"新生儿的出生体重必须有值","fail_when":{"op":"and","args":[{"op":"cmp","field":"age_years","cmp":"==","value":0},{"op":"cmp","field":"age_days","cmp":"<=","value":28},{"op":"not","arg":{"op":"present","field":"birth_weight_g"}}]}},
 {"message":"诊断信息为空","fail_when":{"op":"not","arg":{"op":"count","of":"diagnoses","cmp":">=","value":1}}}
]"#;

struct Tsv {
    mcc: &'static str,
    cc: &'static str,
    excl: &'static str,
    or: &'static str,
    dmap: &'static str,
    pmap: &'static str,
}

const TSV: Tsv = Tsv {
    mcc: "code\texclusion_table\nM1\tT1\nM2\t\n",
    cc: "code\texclusion_table\nC1\tT1\nC2\tT2\n",
    excl: "principal_code\texclusion_table\nP1\tT1\nP2\t\n",
    or: "code\nOR1\nOR2\n",
    dmap: "from_code\tto_code\nP1\t\nOLD\tP1\nDROP\t-\nC1\t\nM1\t\nPDROP\t-\n",
    pmap: "from_code\tto_code\nOR1\t\nX9\tOR2\n",
};

/// A scheme with one MDC "MDCG" whose entry is always true and the given steps, plus lists.
fn scheme(steps: Value, lists: Value, retry: bool) -> Grouper {
    scheme_mdcs(json!([{"code":"MDCG","name":"测试","entry":{"op":"const","value":true},"steps":steps}]), lists, retry)
}

fn scheme_mdcs(mdcs: Value, lists: Value, retry: bool) -> Grouper {
    let j = json!({
        "format":"drg-scheme/1","id":"t","title":"测试方案",
        "outcomes":{
            "check_failed":{"status":"信息校验不通过","mdc":"0000","adrg":"00","drg":"0000"},
            "no_group":{"status":"无法入组","mdc":"0000","adrg":"00","drg":"0000"},
            "mdc_without_adrg":{"status":"无法入组","adrg":"00","drg":"0000"},
            "ambiguous":{"status":"歧义病案"},"grouped":{"status":"分组成功"}},
        "retry_each_procedure": retry,
        "input_checks": serde_json::from_str::<Value>(CHECKS).unwrap(),
        "tables":{}, "mdcs": mdcs, "lists": lists
    });
    let mut f = SchemeFiles { scheme_json: j.to_string(), ..Default::default() };
    let names = "code\tname\n";
    for (k, v) in [
        ("mcc", TSV.mcc),
        ("cc", TSV.cc),
        ("cc_exclusion", TSV.excl),
        ("or_procedures", TSV.or),
        ("diagnosis_names", names),
        ("procedure_names", names),
        ("diagnosis_map", TSV.dmap),
        ("procedure_map", TSV.pmap),
        ("drg_names", "drg\tname\nGA11\t甲组\n"),
    ] {
        f.tables.insert(k.into(), (format!("{k}.tsv"), v.into()));
    }
    Grouper::compile(&f).unwrap_or_else(|e| panic!("{e}"))
}

/// One ADRG step "GA1" whose single DRG "GA11" has condition `c`, no fallback; so a record
/// gets GA11 exactly when `c` holds, and 0000 otherwise.
fn one(c: Value, lists: Value) -> Grouper {
    scheme(json!([{"type":"adrg","id":"GA1","adrg":"GA1","entry":{"op":"const","value":true},
        "drgs":[{"code":"GA11","when":c}],"fallback":null}]), lists, false)
}

#[derive(Clone)]
struct Rec {
    sex: Option<i64>,
    age: Option<i64>,
    age_days: Option<i64>,
    bw: Option<i64>,
    dept: Option<String>,
    los: Option<i64>,
    lt: Option<i64>,
    icu: Option<Centi>,
    dx: Vec<String>,
    px: Vec<String>,
}

fn rec(dx: &[&str], px: &[&str]) -> Rec {
    Rec {
        sex: Some(1),
        age: Some(40),
        age_days: None,
        bw: None,
        dept: None,
        los: Some(5),
        lt: Some(1),
        icu: Some(Centi(0)),
        dx: dx.iter().map(|s| s.to_string()).collect(),
        px: px.iter().map(|s| s.to_string()).collect(),
    }
}

impl Rec {
    fn input(&self) -> GroupInput<'_> {
        GroupInput {
            sex: self.sex,
            age_years: self.age,
            age_days: self.age_days,
            birth_weight_g: self.bw,
            dept: self.dept.as_deref(),
            los_days: self.los,
            leaving_type: self.lt,
            icu_hours: self.icu,
            diagnoses: &self.dx,
            procedures: &self.px,
        }
    }
}

fn drg(g: &Grouper, r: &Rec) -> String {
    g.group(&r.input()).drg.to_string()
}

fn holds(c: Value, lists: Value, r: &Rec) -> bool {
    let g = one(c, lists);
    let d = drg(&g, r);
    assert!(d == "GA11" || d == "0000", "unexpected {d}");
    d == "GA11"
}

#[test]
fn const_and_or_not() {
    let r = rec(&["A"], &[]);
    let t = json!({"op":"const","value":true});
    let f = json!({"op":"const","value":false});
    assert!(holds(t.clone(), json!({}), &r));
    assert!(!holds(f.clone(), json!({}), &r));
    assert!(!holds(json!({"op":"and","args":[t, f]}), json!({}), &r));
    assert!(holds(json!({"op":"or","args":[f, t]}), json!({}), &r));
    assert!(holds(json!({"op":"not","arg":f}), json!({}), &r));
}

#[test]
fn diagnosis_lists() {
    let lists = json!({"L":["A","B"]});
    // principal A ∈ L
    assert!(holds(json!({"op":"main_dx_in","list":"L"}), lists.clone(), &rec(&["A", "Z"], &[])));
    // principal Z ∉ L although secondary B ∈ L
    assert!(!holds(json!({"op":"main_dx_in","list":"L"}), lists.clone(), &rec(&["Z", "B"], &[])));
    // any_dx_in looks at the secondary B
    assert!(holds(json!({"op":"any_dx_in","list":"L"}), lists.clone(), &rec(&["Z", "B"], &[])));
    // secondary_dx_in ignores the principal A
    assert!(!holds(json!({"op":"secondary_dx_in","list":"L"}), lists.clone(), &rec(&["A", "Z"], &[])));
    assert!(holds(json!({"op":"secondary_dx_in","list":"L"}), lists.clone(), &rec(&["Z", "A"], &[])));
    // codes compare exactly: "a", "A " are not "A"
    assert!(!holds(json!({"op":"any_dx_in","list":"L"}), lists, &rec(&["a", "A "], &[])));
}

#[test]
fn procedure_lists_and_or_set() {
    let lists = json!({"L":["X","Y"]});
    // main_proc_in on an empty procedure list is false
    assert!(!holds(json!({"op":"main_proc_in","list":"L"}), lists.clone(), &rec(&["A"], &[])));
    assert!(holds(json!({"op":"main_proc_in","list":"L"}), lists.clone(), &rec(&["A"], &["X", "Q"])));
    assert!(!holds(json!({"op":"main_proc_in","list":"L"}), lists.clone(), &rec(&["A"], &["Q", "X"])));
    assert!(holds(json!({"op":"any_proc_in","list":"L"}), lists.clone(), &rec(&["A"], &["Q", "X"])));
    assert!(!holds(json!({"op":"secondary_proc_in","list":"L"}), lists.clone(), &rec(&["A"], &["X", "Q"])));
    assert!(holds(json!({"op":"secondary_proc_in","list":"L"}), lists, &rec(&["A"], &["Q", "Y"])));
    // @or_procedures is the set of or_procedures.tsv (OR1, OR2)
    assert!(holds(json!({"op":"main_proc_in","list":"@or_procedures"}), json!({}), &rec(&["A"], &["OR2"])));
    assert!(!holds(json!({"op":"main_proc_in","list":"@or_procedures"}), json!({}), &rec(&["A"], &["OR3"])));
}

#[test]
fn proc_tag_compares_tags_as_strings() {
    // T = {X:"1", Y:"2", Z:"2"}; (tag 1 and tag 2) holds for procedures X+Z, not for Y+Z
    let lists = json!({"T":{"X":"1","Y":"2","Z":"2"}});
    let c = json!({"op":"and","args":[{"op":"proc_tag","list":"T","tag":"1"},{"op":"proc_tag","list":"T","tag":"2"}]});
    assert!(holds(c.clone(), lists.clone(), &rec(&["A"], &["X", "Z"])));
    assert!(!holds(c, lists.clone(), &rec(&["A"], &["Y", "Z"])));
    assert!(!holds(json!({"op":"proc_tag","list":"T","tag":"01"}), lists, &rec(&["A"], &["X"])));
}

#[test]
fn dx_tag_count_counts_distinct_regions_including_empty_tag() {
    // R = {H1:"头", H2:"头", C1x:"胸", U:""}: regions of H1+H2 = {头} → 1; H1+C1x → 2; H1+U → 2 ("" counts)
    let lists = json!({"R":{"H1":"头","H2":"头","C1x":"胸","U":""}});
    let c = json!({"op":"dx_tag_count","list":"R","min":2});
    assert!(!holds(c.clone(), lists.clone(), &rec(&["H1", "H2"], &[])));
    assert!(holds(c.clone(), lists.clone(), &rec(&["H1", "C1x"], &[])));
    assert!(holds(c.clone(), lists.clone(), &rec(&["U", "H1"], &[])));
    assert!(!holds(c, lists, &rec(&["H1", "NOPE"], &[])));
}

#[test]
fn count_with_every_operator() {
    let r = rec(&["A", "B", "C"], &["X"]); // 3 diagnoses, 1 procedure
    for (cmp, v, want) in [("==", 3, true), ("!=", 3, false), ("<", 3, false), ("<=", 3, true), (">", 2, true), (">=", 4, false)] {
        assert_eq!(holds(json!({"op":"count","of":"diagnoses","cmp":cmp,"value":v}), json!({}), &r), want, "{cmp} {v}");
    }
    assert!(holds(json!({"op":"count","of":"procedures","cmp":">=","value":1}), json!({}), &r));
    assert!(!holds(json!({"op":"count","of":"procedures","cmp":">=","value":1}), json!({}), &rec(&["A"], &[])));
}

#[test]
fn mcc_cc_with_exclusion_tables() {
    let mcc = json!({"op":"has_mcc"});
    let cc = json!({"op":"has_cc"});
    // M1 is an MCC of table T1; principal P1 excludes table T1 → not counted
    assert!(!holds(mcc.clone(), json!({}), &rec(&["P1", "M1"], &[])));
    // principal Q has no exclusion row → M1 counts
    assert!(holds(mcc.clone(), json!({}), &rec(&["Q", "M1"], &[])));
    // M2 has the empty table id: never excluded, even under P2 whose table is also empty
    assert!(holds(mcc.clone(), json!({}), &rec(&["P2", "M2"], &[])));
    assert!(holds(mcc.clone(), json!({}), &rec(&["P1", "M1", "M2"], &[])));
    // only secondaries count: an MCC principal alone is not "with MCC"
    assert!(!holds(mcc.clone(), json!({}), &rec(&["M2"], &[])));
    // a secondary equal to the principal is checked like any other
    assert!(holds(mcc, json!({}), &rec(&["M2", "M2"], &[])));
    // has_cc reads cc.tsv only: M2 is not a CC
    assert!(!holds(cc.clone(), json!({}), &rec(&["Q", "M2"], &[])));
    // C1 (T1) excluded by P1, C2 (T2) not
    assert!(!holds(cc.clone(), json!({}), &rec(&["P1", "C1"], &[])));
    assert!(holds(cc, json!({}), &rec(&["P1", "C1", "C2"], &[])));
}

#[test]
fn record_fields_and_missing_values() {
    let mut r = rec(&["A"], &[]);
    r.age_days = None;
    assert!(!holds(json!({"op":"present","field":"age_days"}), json!({}), &r));
    assert!(holds(json!({"op":"present","field":"age_years"}), json!({}), &r));
    // nonzero: missing false, 0 false, 1500 true
    assert!(!holds(json!({"op":"nonzero","field":"birth_weight_g"}), json!({}), &r));
    r.bw = Some(0);
    assert!(!holds(json!({"op":"nonzero","field":"birth_weight_g"}), json!({}), &r));
    r.bw = Some(1500);
    assert!(holds(json!({"op":"nonzero","field":"birth_weight_g"}), json!({}), &r));
    // missing compared with == is false, with != true
    assert!(!holds(json!({"op":"cmp","field":"age_days","cmp":"==","value":3}), json!({}), &r));
    assert!(holds(json!({"op":"cmp","field":"age_days","cmp":"!=","value":3}), json!({}), &r));
    assert!(holds(json!({"op":"cmp","field":"age_years","cmp":"<=","value":40}), json!({}), &r));
    assert!(!holds(json!({"op":"cmp","field":"age_years","cmp":"<","value":40}), json!({}), &r));
    // in_set: missing false
    assert!(holds(json!({"op":"in_set","field":"leaving_type","values":[2,1]}), json!({}), &r));
    r.lt = None;
    assert!(!holds(json!({"op":"in_set","field":"leaving_type","values":[2,1]}), json!({}), &r));
    // icu_hours compares exactly with two decimals: 120.50 > 120 but 120.00 is not
    r.icu = Some(Centi(12050));
    assert!(holds(json!({"op":"cmp","field":"icu_hours","cmp":">","value":120}), json!({}), &r));
    r.icu = Some(Centi(12000));
    assert!(!holds(json!({"op":"cmp","field":"icu_hours","cmp":">","value":120}), json!({}), &r));
    // dept is a string
    r.dept = Some("ICU".into());
    assert!(holds(json!({"op":"cmp","field":"dept","cmp":"==","value":"ICU"}), json!({}), &r));
    r.dept = Some("icu".into());
    assert!(!holds(json!({"op":"cmp","field":"dept","cmp":"==","value":"ICU"}), json!({}), &r));
    assert!(holds(json!({"op":"in_set","field":"dept","values":["icu","ICU01"]}), json!({}), &r));
}

#[test]
fn ordering_comparison_with_missing_field_is_an_evaluation_error() {
    // los_days < 5 with los_days missing cannot be evaluated (OpenDRG raises TypeError)
    let g = one(json!({"op":"cmp","field":"los_days","cmp":"<","value":5}), json!({}));
    let mut r = rec(&["A"], &[]);
    r.los = None;
    let out = g.group(&r.input());
    assert_eq!(out.outcome, Outcome::EvalError(casemix_grouper::RecordField::LosDays));
    assert_eq!((out.status, out.mdc, out.adrg, out.drg), ("信息校验不通过", "0000", "00", "0000"));
    assert!(out.message.contains("实际住院天数"));
    // short-circuit: a false operand before the comparison avoids the error
    let g = one(json!({"op":"and","args":[{"op":"const","value":false},{"op":"cmp","field":"los_days","cmp":"<","value":5}]}), json!({}));
    assert_eq!(g.group(&r.input()).outcome, Outcome::NoGroup);
}

#[test]
fn input_checks_in_order() {
    let g = one(json!({"op":"const","value":true}), json!({}));
    let cases: Vec<(Box<dyn Fn(&mut Rec)>, usize, &str)> = vec![
        (Box::new(|r: &mut Rec| r.sex = None), 0, "病人性别为空"),
        (Box::new(|r: &mut Rec| r.sex = Some(9)), 1, "病人性别取值必须为1或2"),
        (Box::new(|r: &mut Rec| r.age = None), 2, "病人年龄为空"),
        (Box::new(|r: &mut Rec| r.age = Some(0)), 3, "病人年龄0时，年龄天数必须有值"),
        (
            Box::new(|r: &mut Rec| {
                r.age = Some(0);
                r.age_days = Some(28);
            }),
            4,
            "新生儿的出生体重必须有值",
        ),
        (Box::new(|r: &mut Rec| r.dx.clear()), 5, "诊断信息为空"),
    ];
    for (mutate, idx, msg) in cases {
        let mut r = rec(&["A"], &[]);
        mutate(&mut r);
        let out = g.group(&r.input());
        assert_eq!(out.outcome, Outcome::CheckFailed(idx));
        assert_eq!(out.message, msg);
        assert_eq!((out.status, out.mdc, out.adrg, out.drg), ("信息校验不通过", "0000", "00", "0000"));
    }
    // a newborn of 29 days needs no birth weight (check 5 only for age_days <= 28); weight 0 passes the check
    let mut r = rec(&["A"], &[]);
    r.age = Some(0);
    r.age_days = Some(29);
    assert_eq!(g.group(&r.input()).outcome, Outcome::Grouped);
    r.age_days = Some(3);
    r.bw = Some(0);
    assert_eq!(g.group(&r.input()).outcome, Outcome::Grouped);
}

#[test]
fn outcomes_grouped_ambiguous_fallback_fallthrough() {
    let lists = json!({"D1":["A"],"D2":["B"]});
    let steps = json!([
        // ambiguous check first: principal B → GQY
        {"type":"ambiguous","code":"GQY","name":"歧义","when":{"op":"main_dx_in","list":"D2"}},
        // GB1: entry A; DRG GB11 needs an MCC; no fallback → falls through to the next step
        {"type":"adrg","id":"GB1","adrg":"GB1","entry":{"op":"main_dx_in","list":"D1"},
         "drgs":[{"code":"GB11","when":{"op":"has_mcc"}}],"fallback":null},
        // GC1: entry A; DRG GC11 needs a procedure; fallback GC1
        {"type":"adrg","id":"GC1","adrg":"GC1","entry":{"op":"main_dx_in","list":"D1"},
         "drgs":[{"code":"GC11","when":{"op":"count","of":"procedures","cmp":">=","value":1}}],"fallback":"GC1"}
    ]);
    let g = scheme(steps, lists, false);
    // A with MCC M2 → GB11 (first step producing a code)
    let o = g.group(&rec(&["A", "M2"], &[]).input());
    assert_eq!((o.status, o.mdc, o.adrg, o.drg), ("分组成功", "MDCG", "GB1", "GB11"));
    // A without MCC, with procedure → GB1 fails, falls through to GC1 → GC11
    assert_eq!(drg(&g, &rec(&["A"], &["X"])), "GC11");
    // A without MCC and without procedure → GC1's fallback: drg = adrg = "GC1"
    let o = g.group(&rec(&["A"], &[]).input());
    assert_eq!((o.status, o.mdc, o.adrg, o.drg), ("分组成功", "MDCG", "GC1", "GC1"));
    // B → ambiguous: adrg "QY", drg "GQY"
    let o = g.group(&rec(&["B"], &[]).input());
    assert_eq!((o.status, o.mdc, o.adrg, o.drg, o.outcome), ("歧义病案", "MDCG", "QY", "GQY", Outcome::Ambiguous));
    // C → no step → next MDC → none → 无法入组 0000
    let o = g.group(&rec(&["C"], &[]).input());
    assert_eq!((o.status, o.mdc, o.adrg, o.drg, o.outcome), ("无法入组", "0000", "00", "0000", Outcome::NoGroup));
}

#[test]
fn mdc_order_and_next_mdc_after_silent_mdc() {
    // MDCA's entry holds for everything but its only ADRG needs procedure OR1; MDCB takes the rest.
    let mdcs = json!([
        {"code":"MDCA","entry":{"op":"const","value":true},"steps":[
            {"type":"adrg","id":"AA1","adrg":"AA1","entry":{"op":"main_proc_in","list":"@or_procedures"},
             "drgs":[{"code":"AA19","when":{"op":"const","value":true}}],"fallback":null}]},
        {"code":"MDCB","entry":{"op":"main_dx_in","list":"D"},"steps":[
            {"type":"adrg","id":"BR1","adrg":"BR1","entry":{"op":"const","value":true},
             "drgs":[{"code":"BR15","when":{"op":"const","value":true}}],"fallback":null}]},
        {"code":"MDCG","entry":{"op":"const","value":true},"steps":[
            {"type":"adrg","id":"G001","adrg":"G00","entry":{"op":"const","value":true},
             "drgs":[{"code":"G00","when":{"op":"const","value":true}}],"fallback":null}]}
    ]);
    let g = scheme_mdcs(mdcs, json!({"D":["A"]}), false);
    // OR1 → MDCA first
    assert_eq!(drg(&g, &rec(&["A"], &["OR1"])), "AA19");
    // no OR procedure: MDCA silent → MDCB
    assert_eq!(drg(&g, &rec(&["A"], &[])), "BR15");
    // neither: MDCG produces "G00": code[1:3] == "00" → mdc_without_adrg (mdc MDCG, adrg 00, drg 0000)
    let o = g.group(&rec(&["Z"], &[]).input());
    assert_eq!((o.status, o.mdc, o.adrg, o.drg, o.outcome), ("无法入组", "MDCG", "00", "0000", Outcome::MdcWithoutAdrg));
}

#[test]
fn retry_each_procedure() {
    // GA11 needs principal procedure OR2. With retry on, [X, OR2] fails whole, then OR2 alone groups.
    let steps = json!([{"type":"adrg","id":"GA1","adrg":"GA1","entry":{"op":"main_proc_in","list":"P"},
        "drgs":[{"code":"GA11","when":{"op":"count","of":"procedures","cmp":"==","value":1}}],"fallback":null}]);
    let on = scheme(steps.clone(), json!({"P":["OR2"]}), true);
    let off = scheme(steps, json!({"P":["OR2"]}), false);
    let r = rec(&["A"], &["X", "OR2"]);
    assert_eq!(drg(&on, &r), "GA11");
    assert_eq!(drg(&off, &r), "0000");
    // the principal procedure itself is never retried alone: [OR2, X] → count == 2 fails → 0000
    assert_eq!(drg(&on, &rec(&["A"], &["OR2", "X"])), "0000");
}

#[test]
fn optional_code_translation() {
    // GA11 needs principal P1. dmap: OLD → P1, DROP → "-", C1/M1/P1 map to themselves.
    let mut g = one(json!({"op":"main_dx_in","list":"L"}), json!({"L":["P1"]}));
    assert_eq!(drg(&g, &rec(&["OLD"], &[])), "0000"); // off by default
    g.set_translate_codes(true);
    assert_eq!(drg(&g, &rec(&["OLD", "DROP"], &[])), "GA11");
    // a code not in the map: the diagnosis cannot be translated
    let o = g.group(&rec(&["OLD", "UNKNOWN"], &[]).input());
    assert_eq!(o.outcome, Outcome::DxNotTranslatable);
    assert_eq!((o.status, o.mdc, o.adrg, o.drg), ("诊断不能转换为分组器支持的编码", "0000", "00", "0000"));
    // a principal mapping to "-" cannot be translated
    assert_eq!(g.group(&rec(&["PDROP"], &[]).input()).outcome, Outcome::DxNotTranslatable);
    // procedures: X9 → OR2; Q unknown → not translatable
    assert_eq!(g.group(&rec(&["P1"], &["X9"]).input()).outcome, Outcome::Grouped);
    assert_eq!(g.group(&rec(&["P1"], &["Q"]).input()).outcome, Outcome::ProcNotTranslatable);
}

#[test]
fn explanation_names_codes_tables_and_groups() {
    let g = one(json!({"op":"and","args":[{"op":"main_dx_in","list":"L"},{"op":"has_mcc"}]}), json!({"L":["P1"]}));
    let r = rec(&["P1", "M1", "M2"], &[]);
    let (o, t) = g.explain(&r.input());
    assert_eq!(o.drg, "GA11");
    let text = t.to_text();
    assert!(text.contains("主要诊断 P1 属于列表 L：是"), "{text}");
    assert!(text.contains("其他诊断 M1 为MCC（排除表 T1），但主要诊断 P1 的排除表为 T1：被排除，不计入"), "{text}");
    assert!(text.contains("其他诊断 M2 为MCC（排除表 ），未被主要诊断排除：计入，有MCC"), "{text}");
    assert!(text.contains("条件满足，入组 GA11 甲组"), "{text}");
}

fn compile_err(json_text: &str) -> String {
    let mut f = SchemeFiles { scheme_json: json_text.into(), ..Default::default() };
    for k in ["mcc", "cc", "cc_exclusion", "or_procedures", "diagnosis_names", "procedure_names", "diagnosis_map", "procedure_map", "drg_names"] {
        let h = match k {
            "mcc" | "cc" => "code\texclusion_table\n",
            "cc_exclusion" => "principal_code\texclusion_table\n",
            "or_procedures" => "code\n",
            "diagnosis_map" | "procedure_map" => "from_code\tto_code\n",
            "drg_names" => "drg\tname\n",
            _ => "code\tname\n",
        };
        f.tables.insert(k.into(), (format!("{k}.tsv"), h.into()));
    }
    match Grouper::compile(&f) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_schemes_name_file_and_json_path() {
    let base = |mdcs: &str, lists: &str| {
        format!(
            r#"{{"format":"drg-scheme/1","id":"t","title":"t","outcomes":{{"check_failed":{{"status":"x"}},"no_group":{{"status":"x"}},"mdc_without_adrg":{{"status":"x"}},"ambiguous":{{"status":"x"}},"grouped":{{"status":"x"}}}},"input_checks":[],"tables":{{}},"mdcs":{mdcs},"lists":{lists}}}"#
        )
    };
    let e = compile_err(&base(r#"[{"code":"MDCA","entry":{"op":"main_dx_in","list":"NOPE"},"steps":[]}]"#, "{}"));
    assert_eq!(e, "分组方案文件 scheme.json 位置 mdcs[0].entry：引用了不存在的代码列表 'NOPE' (unknown list)");
    let e = compile_err(&base(r#"[{"code":"MDCA","entry":{"op":"bogus"},"steps":[]}]"#, "{}"));
    assert!(e.starts_with("分组方案文件 scheme.json 位置 mdcs[0].entry"), "{e}");
    let e = compile_err(&base(
        r#"[{"code":"MDCA","entry":{"op":"const","value":true},"steps":[{"type":"adrg","id":"A","adrg":"AA1","entry":{"op":"and","args":[{"op":"const","value":true},{"op":"cmp","field":"weight","cmp":"<","value":1}]},"drgs":[],"fallback":null}]}]"#,
        "{}",
    ));
    assert_eq!(e, "分组方案文件 scheme.json 位置 mdcs[0].steps[0].entry.args[1]：未知字段 'weight' (unknown field)");
    let e = compile_err(&base(r#"[{"code":"MDCA","entry":{"op":"proc_tag","list":"L","tag":"1"},"steps":[]}]"#, r#"{"L":["X"]}"#));
    assert!(e.contains("不是带标签列表"), "{e}");
    let e = compile_err("{not json");
    assert!(e.starts_with("分组方案文件 scheme.json"), "{e}");
}

#[test]
fn malformed_tsv_names_file_and_line() {
    let mut f = SchemeFiles::default();
    f.scheme_json = r#"{"format":"drg-scheme/1","id":"t","title":"t","outcomes":{"check_failed":{"status":"x"},"no_group":{"status":"x"},"mdc_without_adrg":{"status":"x"},"ambiguous":{"status":"x"},"grouped":{"status":"x"}},"input_checks":[],"tables":{},"mdcs":[],"lists":{}}"#.into();
    f.tables.insert("mcc".into(), ("mcc.tsv".into(), "code\texclusion_table\nA\t1\nB\n".into()));
    let e = Grouper::compile(&f).err().unwrap().to_string();
    assert_eq!(e, "分组方案文件 mcc.tsv 位置 line 3：应有 2 列，实际 1 列");
}
