//! `casemix synth`: generate a synthetic pooling region (hospitals.csv, settlements.csv,
//! claims.csv, charges.csv, labels.csv, summary.json) with casemix-synth. This file is the I/O edge: it reads
//! the scheme tables and writes the files.

use super::common::{load_grouper, resolve_scheme, DEFAULT_SCHEMES_DIR};
use casemix_model::{Claim, SettlementList};
use casemix_synth::write::CsvSink;
use casemix_synth::{Generator, Hospital, Kind, Label, Profile, SchemeTables, Sink, SynthConfig};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// 随机种子 (seed; same seed and options → byte-identical output)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 规模：tiny | small | city | province (region size)
    #[arg(long, default_value = "small")]
    pub profile: String,
    /// 年份，如 2022-2025 或 2024 (years)
    #[arg(long, default_value = "2022-2025")]
    pub years: String,
    /// 分组方案目录或方案编号 (scheme directory or id)
    #[arg(long, default_value = "chs_drg_11")]
    pub scheme: String,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 输出目录 (output directory)
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// 注入行为比例，可重复，如 --rate upcoding=0.02 (injection rate per kind)
    #[arg(long = "rate", value_name = "KIND=RATE")]
    pub rates: Vec<String>,
    /// 每年住院病例数（覆盖规模默认值）(cases per year, overrides the profile)
    #[arg(long)]
    pub cases: Option<u64>,
    /// 生成线程数（不影响输出）(worker threads; output does not depend on it)
    #[arg(long)]
    pub threads: Option<usize>,
    /// 打印吞吐量（清单/秒）(print throughput)
    #[arg(long)]
    pub bench: bool,
    /// 不生成费用明细 charges.csv（清单、门诊结算与标注不变）(skip itemised charges; lists, claims and labels are unchanged)
    #[arg(long)]
    pub no_charges: bool,
}

struct Progress<'a, W: Write> {
    inner: &'a mut CsvSink<W>,
    start: Instant,
    expected: u64,
    last: Instant,
}

impl<W: Write> Sink for Progress<'_, W> {
    fn hospital(&mut self, h: &Hospital) -> Result<(), String> {
        self.inner.hospital(h)
    }
    fn settlement(&mut self, l: &SettlementList) -> Result<(), String> {
        self.inner.settlement(l)
    }
    fn claim(&mut self, c: &Claim) -> Result<(), String> {
        self.inner.claim(c)
    }
    fn label(&mut self, l: &Label) -> Result<(), String> {
        self.inner.label(l)
    }
    fn charge(&mut self, c: &casemix_model::ChargeItem) -> Result<(), String> {
        self.inner.charge(c)
    }
    fn renders_csv(&self) -> bool {
        self.inner.renders_csv()
    }
    fn rendered(&mut self, r: &casemix_synth::write::Rendered) -> Result<(), String> {
        self.inner.rendered(r)
    }
    fn progress(&mut self, year: i32, month: u32, lists: u64) {
        if self.last.elapsed().as_secs_f64() >= 2.0 {
            self.last = Instant::now();
            let pct = (lists as f64 / self.expected.max(1) as f64 * 100.0).min(100.0);
            eprintln!("  {year}年{month:02}月 已生成 {lists} 份结算清单（约 {pct:.0}%，{:.0} 秒）", self.start.elapsed().as_secs_f64());
        }
    }
}

fn read(dir: &std::path::Path, name: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| format!("无法读取 {}：{e}", dir.join(name).display()))
}

pub fn run(a: Args) -> Result<(), String> {
    let profile = Profile::parse(&a.profile)?;
    let (y0, y1) = SynthConfig::parse_years(&a.years)?;
    let mut cfg = SynthConfig::new(a.seed, profile, y0, y1);
    cfg.cases_per_year = a.cases;
    cfg.charges.enabled = !a.no_charges;
    cfg.threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    for r in &a.rates {
        let (k, v) = r.split_once('=').ok_or_else(|| format!("--rate '{r}' 应为 类型=比例，如 upcoding=0.02"))?;
        let kind = Kind::parse(k.trim()).ok_or_else(|| {
            format!("未知的行为类型 '{k}'（可选：{}）", Kind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>().join("、"))
        })?;
        let v: f64 = v.trim().parse().map_err(|_| format!("--rate '{r}' 的比例不是数字"))?;
        if !(0.0..=0.2).contains(&v) {
            return Err(format!("--rate '{r}' 的比例应在 0 到 0.2 之间"));
        }
        cfg.inject.rates.insert(kind, v);
    }
    let grouper = load_grouper(&a.scheme, &a.schemes_dir)?;
    let dir = resolve_scheme(&a.scheme, &a.schemes_dir);
    let tables = SchemeTables::parse(&read(&dir, "mcc.tsv")?, &read(&dir, "cc.tsv")?, &read(&dir, "cc_exclusion.tsv")?, &read(&dir, "or_procedures.tsv")?)?;
    let t0 = Instant::now();
    let gen = Generator::new(&grouper, &tables, cfg)?;
    eprintln!(
        "合成统筹区：种子 {}，规模 {}，{}–{} 年，{} 家医院，分组方案 {}（{} 个 ADRG 可生成，准备 {:.1} 秒）",
        a.seed,
        profile.name(),
        y0,
        y1,
        gen.hospitals().len(),
        grouper.id(),
        gen.catalogue().verified_count(),
        t0.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&a.out).map_err(|e| format!("无法创建输出目录 {}：{e}", a.out.display()))?;
    let open = |name: &str| -> Result<BufWriter<File>, String> {
        let p = a.out.join(name);
        File::create(&p).map(|f| BufWriter::with_capacity(1 << 20, f)).map_err(|e| format!("无法创建 {}：{e}", p.display()))
    };
    let mut csv = if a.no_charges {
        CsvSink::new(open("hospitals.csv")?, open("settlements.csv")?, open("claims.csv")?, open("labels.csv")?)?
    } else {
        CsvSink::with_charges(open("hospitals.csv")?, open("settlements.csv")?, open("claims.csv")?, open("labels.csv")?, open("charges.csv")?)?
    };
    let expected = gen.config().cases_per_year() * (y1 - y0 + 1) as u64;
    let start = Instant::now();
    let summary = {
        let mut p = Progress { inner: &mut csv, start, expected, last: Instant::now() };
        gen.run(&mut p)?
    };
    let (h, s, c, l, ch) = csv.into_parts()?;
    for mut w in [h, s, c, l].into_iter().chain(ch) {
        w.flush().map_err(|e| format!("写入失败：{e}"))?;
    }
    let secs = start.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    std::fs::write(a.out.join("summary.json"), json + "\n").map_err(|e| format!("无法写入 summary.json：{e}"))?;
    let t = &summary.total;
    eprintln!(
        "完成：{} 份结算清单、{} 条门诊/药店结算、{} 条标注，写入 {}",
        t.settlement_lists,
        t.claims,
        t.injected.values().sum::<u64>(),
        a.out.display()
    );
    eprintln!(
        "  次均费用 {:.2} 元，平均住院日 {:.2} 天，个人负担比例 {:.1}%，死亡率 {:.2}%，入组率 {:.2}%，DRG 组数 {}，前 50 组占比 {:.1}%",
        t.mean_cost_yuan,
        t.mean_los_days,
        t.personal_burden_ratio * 100.0,
        t.mortality * 100.0,
        t.grouped_share * 100.0,
        t.distinct_drgs,
        t.top50_share * 100.0
    );
    let inj: Vec<String> = Kind::ALL.iter().map(|k| format!("{} {}", k.label_zh(), t.injected.get(k.key()).copied().unwrap_or(0))).collect();
    eprintln!("  注入行为：{}", inj.join("，"));
    let bad: Vec<&String> = summary.targets.iter().filter(|(_, v)| !v.ok).map(|(k, _)| k).collect();
    if !bad.is_empty() {
        eprintln!("  注意：以下校准指标超出目标范围（calibration targets missed）：{}", bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("、"));
    }
    if a.bench {
        eprintln!("  吞吐量 (throughput)：{:.0} 份清单/秒（{:.2} 秒，{} 线程）", t.settlement_lists as f64 / secs, secs, gen.config().threads);
    }
    Ok(())
}
