//! `casemix calibrate drg|dip`: DRG weights and the DIP catalogue from a region's settlement
//! history (payment.md §1, dip.md §1–§2). Reads the history with `casemix-io` in batches,
//! groups it with the scheme on all cores (`std::thread::scope`), hands slim cases to the pure
//! cores (`casemix-calibrate`, `casemix-dip`) and writes their files.

use super::common::{load_grouper, resolve_scheme, DEFAULT_SCHEMES_DIR};
use casemix_calibrate::stats::Dec4;
use casemix_calibrate::{CalibConfig, CaseCost, DrgInfo, Inflation, ReportContext, SchemeR2, TierCalibration, TrimRule};
use casemix_dip::{ChapterRange, ComboKey, DipCase, DipConfig, Names, ProcRule, SeverityRule};
use casemix_grouper::{Grouper, Outcome};
use casemix_io::{ReadOptions, RecordReader, Rejection};
use casemix_model::{Fen, SettlementList};
use chrono::Datelike;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// 由历史结算清单测算 DRG 相对权重与基准点数 (DRG weights from history)
    Drg(DrgArgs),
    /// 由历史结算清单建立 DIP 病种目录库与分值 (DIP catalogue from history)
    Dip(DipArgs),
}

/// Options shared by both subcommands.
#[derive(clap::Args, Clone)]
pub struct HistoryArgs {
    /// 历史结算清单文件（CSV/JSONL/XLSX，可多个）(history settlement files)
    #[arg(long, num_args = 1.., required = true)]
    pub history: Vec<PathBuf>,
    /// 历史年度，由远及近，以出院时间年份计 (history years, oldest first)
    #[arg(long, value_delimiter = ',', required = true)]
    pub years: Vec<i32>,
    /// 年度权重，与 --years 对应，由远及近 (year weights, oldest first; payment.md §1.4: 1,2,7)
    #[arg(long, value_delimiter = ',', default_value = "1,2,7")]
    pub year_weights: Vec<u32>,
    /// 价格水平目标年度（默认最近年度）(target price year)
    #[arg(long)]
    pub target_year: Option<i32>,
    /// 价格调整：measured（全部病例例均费用实际增长）| none | index:2022=100,2023=103,… (inflation)
    #[arg(long, default_value = "measured")]
    pub inflation: String,
    /// 输出目录 (output directory)
    #[arg(short, long)]
    pub output: PathBuf,
    /// 线程数（默认全部核心）(threads)
    #[arg(long)]
    pub threads: Option<usize>,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
}

#[derive(clap::Args)]
pub struct DrgArgs {
    #[command(flatten)]
    pub h: HistoryArgs,
    /// 分组方案目录或编号 (scheme)
    #[arg(long, default_value = "chs_drg_11")]
    pub scheme: String,
    /// 另行比较分组效能 R² 的方案（可多次）(other schemes to compare R²)
    #[arg(long)]
    pub compare_scheme: Vec<String>,
    /// 裁剪规则：sd[:k] | pct[:低:高] | iqr[:k] | none (trimming; payment.md §1.3, default sd:3)
    #[arg(long, default_value = "sd:3")]
    pub trim: String,
    /// 病例数少于此值的 DRG 取 ADRG 权重或专家值 (payment.md §1.6 minimum cases)
    #[arg(long, default_value_t = 5)]
    pub min_cases: usize,
    /// 专家权重文件 CSV（列 drg,rw）(expert weights)
    #[arg(long)]
    pub expert: Option<PathBuf>,
    /// 医疗机构文件 hospitals.csv（code,…,tier,…）；默认取第一个历史文件同目录下的 hospitals.csv
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// 另按医院级别（tier）分别测算权重 (tier-level weights)
    #[arg(long)]
    pub by_tier: bool,
}

#[derive(clap::Args)]
pub struct DipArgs {
    #[command(flatten)]
    pub h: HistoryArgs,
    /// 提供手术室手术表、MCC/CC 表与编码名称的分组方案 (scheme for the OR list, MCC/CC and names)；none = 不用方案
    #[arg(long, default_value = "chs_drg_11")]
    pub scheme: String,
    /// 核心病种临界值 (dip.md §1: 15)
    #[arg(long, default_value_t = 15)]
    pub threshold: usize,
    /// 分值基数 100 或 1000 (dip.md §2)
    #[arg(long, default_value_t = 100)]
    pub score_base: i64,
    /// 裁剪规则（dip.md §2：默认不裁剪）(trimming)
    #[arg(long, default_value = "none")]
    pub trim: String,
    /// 基层病种目录 CSV（列 dx_key,proc_key；proc_key 为空 = 保守治疗）(basic 病种 list)
    #[arg(long)]
    pub basic_list: Option<PathBuf>,
    /// 诊断性操作的 ICD-9-CM-3 章节范围 (diagnostic procedure chapters)
    #[arg(long, value_delimiter = ',', default_value = "87-91")]
    pub diagnostic_chapters: Vec<String>,
    /// 辅助目录：某级病例数下限 (auxiliary level minimum cases)
    #[arg(long, default_value_t = 5)]
    pub aux_min_cases: usize,
    /// 辅助目录：病种病例数下限 (auxiliary 病种 minimum cases)
    #[arg(long, default_value_t = 15)]
    pub aux_min_group_cases: usize,
    /// 辅助目录：病种变异系数下限 (auxiliary minimum CV)
    #[arg(long, default_value_t = 0.0)]
    pub aux_min_cv: f64,
    /// 严重程度：MCC 计分 (severity weight of an MCC secondary diagnosis)
    #[arg(long, default_value_t = 3)]
    pub mcc_weight: u32,
    /// 严重程度：CC 计分 (severity weight of a CC secondary diagnosis)
    #[arg(long, default_value_t = 1)]
    pub cc_weight: u32,
    /// 不做“匹配最多手术操作”的核心病种入组 (no partial matching)
    #[arg(long)]
    pub no_partial_match: bool,
}

pub fn run(a: Args) -> Result<(), String> {
    match a.cmd {
        Sub::Drg(d) => run_drg(d),
        Sub::Dip(d) => run_dip(d),
    }
}

/// One history case. `groups[k]` = (adrg, drg, grouped) under scheme k.
pub(crate) struct HistCase<'g> {
    pub year: i32,
    pub hospital: u32,
    pub groups: Vec<(&'g str, &'g str, bool)>,
    pub cost: Fen,
    pub los: i64,
    pub dx: Vec<String>,
    pub px: Vec<String>,
    pub leaving: Option<i64>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
}

#[derive(Default)]
pub(crate) struct History<'g> {
    pub cases: Vec<HistCase<'g>>,
    pub hospitals: Vec<String>,
    pub records: usize,
    pub rejections: Vec<Rejection>,
    pub no_discharge: usize,
    pub no_cost: usize,
    pub outside_years: usize,
    pub notes: Vec<String>,
}

enum RowOut<'g> {
    Case(HistCase<'g>, String),
    Rejected(Rejection),
    NoDischarge,
    NoCost,
    Outside,
}

const BATCH: usize = 16_384;

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)).max(1)
}

/// Reads, parses and groups the history files (years filter applied), in file order.
pub(crate) fn load_history<'g>(h: &HistoryArgs, groupers: &[&'g Grouper], keep_codes: bool) -> Result<History<'g>, String> {
    let nt = threads(h.threads);
    let mut out = History::default();
    let mut hosp_ix: BTreeMap<String, u32> = BTreeMap::new();
    for path in &h.history {
        let mut rdr = RecordReader::open(path, &ReadOptions::default()).map_err(|e| format!("{}：{e}", path.display()))?;
        let schema = rdr.schema().map_err(|e| format!("{}：{e}", path.display()))?;
        // Read batch k+1 on this thread while the workers parse and group batch k.
        let mut pending: Vec<casemix_io::RawRow> = Vec::new();
        let got = rdr.fill_batch(&mut pending, BATCH).map_err(|e| format!("{}：{e}", path.display()))?;
        let mut n_file = 0usize;
        let mut more = got > 0;
        while more {
            n_file += pending.len();
            let mut next = Vec::new();
            let (read, parts) = std::thread::scope(|s| {
                let chunk = pending.len().div_ceil(nt).max(1);
                let hs: Vec<_> = pending
                    .chunks(chunk)
                    .map(|rows| {
                        let schema = &schema;
                        s.spawn(move || {
                            rows.iter()
                                .map(|row| match schema.parse(row) {
                                    Err(r) => RowOut::Rejected(r),
                                    Ok(l) => to_case(l, &h.years, groupers, keep_codes),
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let read = rdr.fill_batch(&mut next, BATCH);
                let parts: Vec<Vec<RowOut<'g>>> = hs.into_iter().map(|j| j.join().expect("worker thread")).collect();
                (read, parts)
            });
            more = read.map_err(|e| format!("{}：{e}", path.display()))? > 0;
            pending = next;
            for r in parts.into_iter().flatten() {
                match r {
                    RowOut::Case(mut c, hosp) => {
                        let next = hosp_ix.len() as u32;
                        c.hospital = *hosp_ix.entry(hosp).or_insert(next);
                        out.cases.push(c);
                    }
                    RowOut::Rejected(r) => out.rejections.push(r),
                    RowOut::NoDischarge => out.no_discharge += 1,
                    RowOut::NoCost => out.no_cost += 1,
                    RowOut::Outside => out.outside_years += 1,
                }
            }
        }
        out.records += n_file;
        out.notes.push(format!("文件 {}：{} 条记录", path.display(), n_file));
    }
    let mut hs: Vec<(String, u32)> = hosp_ix.into_iter().collect();
    hs.sort_by_key(|x| x.1);
    out.hospitals = hs.into_iter().map(|x| x.0).collect();
    out.notes.push(format!(
        "合计 {} 条记录：输入错误（拒收）{}，缺出院时间 {}，缺金额合计 {}，不在历史年度 {}，纳入 {}",
        out.records,
        out.rejections.len(),
        out.no_discharge,
        out.no_cost,
        out.outside_years,
        out.cases.len()
    ));
    Ok(out)
}

fn to_case<'g>(mut l: SettlementList, years: &[i32], groupers: &[&'g Grouper], keep_codes: bool) -> RowOut<'g> {
    let Some(d) = l.discharge_time else { return RowOut::NoDischarge };
    let year = d.year();
    if !years.contains(&year) {
        return RowOut::Outside;
    }
    let Some(cost) = l.total_cost else { return RowOut::NoCost };
    let groups = groupers
        .iter()
        .map(|g| {
            let r = g.group(&l.group_input());
            (r.adrg, r.drg, r.outcome == Outcome::Grouped)
        })
        .collect();
    let (dx, px) = if keep_codes { (std::mem::take(&mut l.diagnoses), std::mem::take(&mut l.procedures)) } else { (Vec::new(), Vec::new()) };
    RowOut::Case(
        HistCase {
            year,
            hospital: 0,
            groups,
            cost,
            los: l.los_days.unwrap_or(0),
            dx,
            px,
            leaving: l.leaving_type.map(|x| x.code()),
            age_years: l.age_years,
            age_days: l.age_days,
        },
        l.hospital_code.take().unwrap_or_default(),
    )
}

fn write(dir: &Path, name: &str, content: &str) -> Result<(), String> {
    std::fs::write(dir.join(name), content).map_err(|e| format!("无法写入 {}：{e}", dir.join(name).display()))
}

fn write_rejections(dir: &Path, rej: &[Rejection]) -> Result<(), String> {
    let f = std::fs::File::create(dir.join("rejections.csv")).map_err(|e| format!("无法写入 rejections.csv：{e}"))?;
    casemix_io::write_rejections_csv(std::io::BufWriter::new(f), rej).map_err(|e| e.to_string())
}

/// Reads `hospitals.csv` (code → tier).
fn read_tiers(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("无法读取 {}：{e}", path.display()))?;
    let hd = r.headers().map_err(|e| e.to_string())?.clone();
    let col = |n: &str| hd.iter().position(|h| h.trim_start_matches('\u{feff}') == n);
    let (Some(c), Some(t)) = (col("code"), col("tier")) else {
        return Err(format!("{} 缺少 code 或 tier 列", path.display()));
    };
    let mut m = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        m.insert(rec.get(c).unwrap_or("").to_string(), rec.get(t).unwrap_or("").to_string());
    }
    Ok(m)
}

fn read_expert(path: &Path) -> Result<BTreeMap<String, Dec4>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("无法读取 {}：{e}", path.display()))?;
    let mut m = BTreeMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| e.to_string())?;
        let drg = rec.get(0).unwrap_or("").trim().to_string();
        let rw = rec.get(1).unwrap_or("").trim();
        // exact decimal with at most 4 places
        let v = parse_dec4(rw).ok_or_else(|| format!("{} 第 {} 行：权重“{rw}”不是最多 4 位小数的数", path.display(), i + 2))?;
        m.insert(drg, v);
    }
    Ok(m)
}

fn parse_dec4(s: &str) -> Option<Dec4> {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    if f.len() > 4 || i.is_empty() && f.is_empty() {
        return None;
    }
    let iv: i64 = if i.is_empty() { 0 } else { i.parse().ok()? };
    let fv: i64 = if f.is_empty() { 0 } else { format!("{f:0<4}").parse().ok()? };
    Some(Dec4(iv * 10_000 + fv))
}

fn run_drg(a: DrgArgs) -> Result<(), String> {
    let t0 = Instant::now();
    let cfg = CalibConfig {
        years: a.h.years.clone(),
        year_weights: a.h.year_weights.clone(),
        target_year: a.h.target_year,
        trim: TrimRule::parse(&a.trim)?,
        inflation: Inflation::parse(&a.h.inflation)?,
        min_cases: a.min_cases,
        points_per_rw: 100,
    };
    cfg.validate()?;
    let main = load_grouper(&a.scheme, &a.h.schemes_dir)?;
    let others: Vec<Grouper> = a.compare_scheme.iter().map(|s| load_grouper(s, &a.h.schemes_dir)).collect::<Result<_, _>>()?;
    let mut gs: Vec<&Grouper> = vec![&main];
    gs.extend(others.iter());
    let expert = match &a.expert {
        Some(p) => read_expert(p)?,
        None => BTreeMap::new(),
    };
    let hist = load_history(&a.h, &gs, false)?;
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    // The scheme's DRGs = drg_names.tsv (FORMAT.md); ADRG = first 3 characters of the code (CHS-DRG
    // convention), used only for DRGs without history cases.
    let mut scheme_drgs: Vec<DrgInfo> = main
        .dictionaries()
        .drg_names
        .iter()
        .map(|(d, n)| DrgInfo { drg: d.to_string(), adrg: d.get(..3).unwrap_or(d).to_string(), name: n.to_string() })
        .collect();
    scheme_drgs.sort_by(|a, b| a.drg.cmp(&b.drg));
    let slim = |k: usize, filter: &dyn Fn(&HistCase) -> bool| -> Vec<CaseCost<'_>> {
        hist.cases
            .iter()
            .filter(|c| c.groups[k].2 && filter(c))
            .map(|c| CaseCost {
                year: c.year,
                hospital: &hist.hospitals[c.hospital as usize],
                drg: c.groups[k].1,
                adrg: c.groups[k].0,
                cost: c.cost,
                los: c.los,
            })
            .collect()
    };
    let cases = slim(0, &|_| true);
    let cal = casemix_calibrate::calibrate(&cases, &scheme_drgs, &expert, &cfg)?;
    let mut schemes = Vec::new();
    for (k, g) in gs.iter().enumerate() {
        let (r2u, r2t, groups) = if k == 0 {
            (cal.r2_untrimmed, cal.r2_trimmed, cal.drgs.iter().filter(|d| d.cases > 0).count())
        } else {
            let c = casemix_calibrate::calibrate(&slim(k, &|_| true), &[], &BTreeMap::new(), &cfg)?;
            (c.r2_untrimmed, c.r2_trimmed, c.drgs.iter().filter(|d| d.cases > 0).count())
        };
        schemes.push(SchemeR2 {
            scheme: g.id().to_string(),
            title: g.title().to_string(),
            cases: hist.cases.len(),
            grouped: hist.cases.iter().filter(|c| c.groups[k].2).count(),
            groups,
            r2_untrimmed: r2u,
            r2_trimmed: r2t,
        });
    }
    // tiers
    let mut tiers = Vec::new();
    if a.by_tier {
        let hp = a.hospitals.clone().or_else(|| a.h.history.first().and_then(|p| p.parent()).map(|d| d.join("hospitals.csv")));
        let hp = hp.filter(|p| p.is_file()).ok_or("--by-tier 需要医院文件（--hospitals hospitals.csv）")?;
        let tier_of = read_tiers(&hp)?;
        let ht: Vec<String> = hist.hospitals.iter().map(|h| tier_of.get(h).cloned().unwrap_or_else(|| "未知".into())).collect();
        let names: std::collections::BTreeSet<&String> = ht.iter().collect();
        for t in names {
            let sub = slim(0, &|c: &HistCase| &ht[c.hospital as usize] == t);
            match casemix_calibrate::calibrate(&sub, &scheme_drgs, &expert, &cfg) {
                Ok(c) => tiers.push(TierCalibration { tier: t.clone(), calibration: c }),
                Err(e) => eprintln!("级别 {t} 无法测算：{e}"),
            }
        }
    }
    let t_cal = t1.elapsed();
    let mut notes = hist.notes.clone();
    notes.push(format!("分组方案 {} 下分组成功、用于测算的病例：{}", main.id(), cases.len()));
    let ctx = ReportContext { scheme: main.id().to_string(), scheme_title: main.title().to_string(), input_notes: notes, schemes, tiers };
    std::fs::create_dir_all(&a.h.output).map_err(|e| format!("无法创建输出目录：{e}"))?;
    let o = &a.h.output;
    write(o, "weights.csv", &casemix_calibrate::weights_csv(&cal))?;
    write(o, "adrg_weights.csv", &casemix_calibrate::adrg_csv(&cal))?;
    write(o, "drg_years.csv", &casemix_calibrate::drg_years_csv(&cal))?;
    write(o, "cmi.csv", &casemix_calibrate::cmi_csv(&cal))?;
    write(o, "report.md", &casemix_calibrate::report_md(&cal, &ctx))?;
    if !ctx.tiers.is_empty() {
        write(o, "weights_tier.csv", &casemix_calibrate::tier_weights_csv(&ctx.tiers))?;
    }
    write(o, "config.json", &serde_json::to_string_pretty(&cfg).map_err(|e| format!("配置无法序列化：{e}"))?)?;
    write_rejections(o, &hist.rejections)?;
    let computed = cal.drgs.iter().filter(|d| d.source == casemix_calibrate::WeightSource::Computed).count();
    eprintln!(
        "DRG 权重测算完成：病例 {}（分组成功 {}），方案 DRG {}，测算权重 {}，替代/待定 {}；R² 未裁剪 {:.4} / 裁剪后 {:.4}；全部病例费用 {} 元",
        hist.cases.len(),
        cases.len(),
        cal.drgs.len(),
        computed,
        cal.drgs.len() - computed,
        cal.r2_untrimmed,
        cal.r2_trimmed,
        cal.all_cost
    );
    for s in &ctx.schemes[1..] {
        eprintln!("  比较方案 {}：入组 {}，R² 未裁剪 {:.4} / 裁剪后 {:.4}", s.scheme, s.grouped, s.r2_untrimmed, s.r2_trimmed);
    }
    eprintln!("用时：读取与分组 {:.2}s，测算 {:.2}s；输出目录 {}", t_load.as_secs_f64(), t_cal.as_secs_f64(), o.display());
    Ok(())
}

fn read_first_col(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("无法读取 {}：{e}", path.display()))?;
    Ok(text.lines().skip(1).filter_map(|l| l.split('\t').next()).filter(|s| !s.is_empty()).map(str::to_string).collect())
}

fn read_pairs(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("无法读取 {}：{e}", path.display()))?;
    Ok(text.lines().skip(1).filter_map(|l| l.split_once('\t')).map(|(a, b)| (a.to_string(), b.to_string())).collect())
}

fn parse_chapters(v: &[String]) -> Result<Vec<ChapterRange>, String> {
    v.iter()
        .map(|s| {
            let (a, b) = s.split_once('-').unwrap_or((s, s));
            match (a.trim().parse(), b.trim().parse()) {
                (Ok(first), Ok(last)) => Ok(ChapterRange { first, last }),
                _ => Err(format!("章节范围“{s}”应为 起-止，如 87-91")),
            }
        })
        .collect()
}

fn read_basic_list(path: &Path) -> Result<Vec<ComboKey>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("无法读取 {}：{e}", path.display()))?;
    let mut v = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        v.push(ComboKey { dx_key: rec.get(0).unwrap_or("").trim().to_string(), proc_key: rec.get(1).unwrap_or("").trim().to_string() });
    }
    Ok(v)
}

fn run_dip(a: DipArgs) -> Result<(), String> {
    let t0 = Instant::now();
    let mut severity = SeverityRule::default();
    let mut or_codes = Vec::new();
    let mut names = Names::default();
    let mut scheme_note = "未使用分组方案：无手术室手术表（所有操作按章节分类），严重程度按次要诊断个数计".to_string();
    if a.scheme != "none" {
        let dir = resolve_scheme(&a.scheme, &a.h.schemes_dir);
        if !dir.join("scheme.json").is_file() {
            return Err(format!("找不到分组方案 '{}'", a.scheme));
        }
        or_codes = read_first_col(&dir.join("or_procedures.tsv"))?;
        let mut w = BTreeMap::new();
        for c in read_first_col(&dir.join("cc.tsv"))? {
            w.insert(c, a.cc_weight);
        }
        for c in read_first_col(&dir.join("mcc.tsv"))? {
            w.insert(c, a.mcc_weight);
        }
        severity.weights = w;
        severity.default_weight = 0;
        names.diagnoses = read_pairs(&dir.join("diagnosis_names.tsv"))?;
        names.procedures = read_pairs(&dir.join("procedure_names.tsv"))?;
        scheme_note = format!(
            "手术室手术表、MCC/CC 表与编码名称取自分组方案 {}（MCC 计 {} 分，CC 计 {} 分）",
            dir.display(),
            a.mcc_weight,
            a.cc_weight
        );
    }
    let cfg = DipConfig {
        years: a.h.years.clone(),
        year_weights: a.h.year_weights.clone(),
        target_year: a.h.target_year,
        inflation: Inflation::parse(&a.h.inflation)?,
        trim: TrimRule::parse(&a.trim)?,
        core_threshold: a.threshold,
        score_base: a.score_base,
        proc_rule: ProcRule { diagnostic_chapters: parse_chapters(&a.diagnostic_chapters)? },
        severity,
        aux_min_level_cases: a.aux_min_cases,
        aux_min_group_cases: a.aux_min_group_cases,
        aux_min_cv: a.aux_min_cv,
        partial_match: !a.no_partial_match,
        ..DipConfig::default()
    };
    if cfg.years.len() != cfg.year_weights.len() {
        return Err(format!("年度数 {} 与年度权重数 {} 不一致", cfg.years.len(), cfg.year_weights.len()));
    }
    let basic = match &a.basic_list {
        Some(p) => read_basic_list(p)?,
        None => Vec::new(),
    };
    let hist = load_history(&a.h, &[], true)?;
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let cases: Vec<DipCase<'_>> = hist
        .cases
        .iter()
        .map(|c| DipCase {
            year: c.year,
            diagnoses: &c.dx,
            procedures: &c.px,
            cost: c.cost,
            los: c.los,
            leaving_type: c.leaving,
            age_years: c.age_years,
            age_days: c.age_days,
        })
        .collect();
    let cat = casemix_dip::build(&cases, &or_codes, &basic, &names, &cfg)?;
    let t_build = t1.elapsed();
    let mut notes = hist.notes.clone();
    notes.push(scheme_note);
    std::fs::create_dir_all(&a.h.output).map_err(|e| format!("无法创建输出目录：{e}"))?;
    let o = &a.h.output;
    write(o, "catalogue.csv", &cat.catalogue_csv())?;
    write(o, "aux_severity.csv", &cat.aux_csv(false))?;
    write(o, "aux_age.csv", &cat.aux_csv(true))?;
    write(o, "report.md", &cat.report_md(&notes))?;
    write(o, "catalogue.json", &serde_json::to_string(cat.data()).map_err(|e| format!("目录库无法序列化：{e}"))?)?;
    write_rejections(o, &hist.rejections)?;
    let sm = cat.summary();
    let count = |k: casemix_dip::DipKind| cat.entries().iter().filter(|e| e.kind == k).count();
    eprintln!(
        "DIP 目录完成：病例 {}，核心病种 {}，基层病种 {}，综合病种 {}；核心覆盖 {:.2}%，历史入组率 {:.2}%；R² 未裁剪 {:.4} / 裁剪后 {:.4} / 含辅助目录 {:.4}",
        sm.catalogued,
        count(casemix_dip::DipKind::Core),
        count(casemix_dip::DipKind::Basic),
        count(casemix_dip::DipKind::Comprehensive),
        (sm.core_cases + sm.basic_cases) as f64 * 100.0 / sm.catalogued.max(1) as f64,
        sm.history_grouped as f64 * 100.0 / sm.history_total.max(1) as f64,
        sm.r2_untrimmed,
        sm.r2_trimmed,
        sm.r2_aux
    );
    eprintln!("用时：读取 {:.2}s，建目录 {:.2}s；输出目录 {}", t_load.as_secs_f64(), t_build.as_secs_f64(), o.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dec4_parsing() {
        assert_eq!(parse_dec4("1.5"), Some(Dec4(15000)));
        assert_eq!(parse_dec4("0.1234"), Some(Dec4(1234)));
        assert_eq!(parse_dec4("2"), Some(Dec4(20000)));
        assert_eq!(parse_dec4("0.12345"), None);
        assert_eq!(parse_dec4("x"), None);
    }
}
