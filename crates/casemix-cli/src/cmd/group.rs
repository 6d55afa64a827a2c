//! `casemix group`: group every record of a file with a DRG scheme, CSV out, in input order.
//!
//! Pipeline: the calling thread reads batches of raw rows (decoding + CSV splitting); worker
//! threads parse each row into a settlement list, group it and format the output rows of the
//! batch; a writer thread puts the batches back in input order and writes them. Channels are
//! bounded, so memory stays bounded whatever the file size.

use super::common::{load_grouper, DEFAULT_SCHEMES_DIR};
use casemix_grouper::{Grouper, Outcome};
use casemix_io::{Encoding, Format, RawRow, ReadOptions, RecordReader, Schema};
use casemix_model::Field;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Rows per batch handed to a worker.
const BATCH: usize = 4096;
/// The status written for records the importer rejected.
pub const STATUS_REJECTED: &str = "输入错误";
/// Result columns (after the input columns with `--full`).
pub const RESULT_COLUMNS: [&str; 6] = ["status", "mdc", "adrg", "drg", "drg_name", "message"];

#[derive(clap::Args)]
pub struct Args {
    /// 分组方案目录或方案编号 (scheme directory, or an id looked up in --schemes-dir)
    #[arg(long)]
    pub scheme: String,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 输入文件：CSV（UTF-8/GBK）、JSON Lines 或 .xlsx (input file)
    pub input: PathBuf,
    /// 输出 CSV (output CSV, UTF-8)
    #[arg(short, long)]
    pub output: PathBuf,
    /// 线程数，默认全部核心 (worker threads; default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// 输入编码 auto/utf8/gbk (input encoding)
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// 输入格式 csv/jsonl/xlsx，默认按扩展名 (input format; default from the extension)
    #[arg(long)]
    pub format: Option<String>,
    /// 增加 explain 列：中文分组过程 (add an `explain` column with the grouping trace)
    #[arg(long)]
    pub explain: bool,
    /// 输出全部输入列，再接分组结果列 (write every input column, then the result columns)
    #[arg(long)]
    pub full: bool,
    /// 启用编码转换（FORMAT.md §8）(translate codes with the scheme's version maps first)
    #[arg(long)]
    pub translate_codes: bool,
    /// 汇总写入 JSON 文件 (also write the summary as JSON)
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
}

/// Counts of one run.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Stats {
    pub records: u64,
    pub grouped: u64,
    pub ambiguous: u64,
    pub no_group: u64,
    pub check_failed: u64,
    pub rejected: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.records += o.records;
        self.grouped += o.grouped;
        self.ambiguous += o.ambiguous;
        self.no_group += o.no_group;
        self.check_failed += o.check_failed;
        self.rejected += o.rejected;
    }
}

pub fn read_options(encoding: &str, format: Option<&str>) -> Result<ReadOptions, String> {
    let encoding = Encoding::from_name(encoding).ok_or_else(|| format!("不支持的编码 '{encoding}'（可选 auto、utf8、gbk）"))?;
    let format = match format {
        None => None,
        Some("csv") => Some(Format::Csv),
        Some("jsonl") | Some("json") => Some(Format::Jsonl),
        Some("xlsx") => Some(Format::Xlsx),
        Some(o) => return Err(format!("不支持的格式 '{o}'（可选 csv、jsonl、xlsx）")),
    };
    Ok(ReadOptions { format, encoding, ..ReadOptions::default() })
}

struct Job {
    seq: u64,
    rows: Vec<RawRow>,
}

struct Done {
    seq: u64,
    bytes: Vec<u8>,
    stats: Stats,
}

struct Ctx<'a> {
    grouper: &'a Grouper,
    schema: &'a Schema,
    full: bool,
    explain: bool,
    width: usize,
}

fn process(cx: &Ctx, rows: &[RawRow]) -> (Vec<u8>, Stats) {
    let mut st = Stats::default();
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::with_capacity(rows.len() * 64));
    let end = std::iter::empty::<&[u8]>();
    for row in rows {
        st.records += 1;
        let parsed = cx.schema.parse(row);
        // writing into a Vec cannot fail: results are ignored below
        if cx.full {
            if cx.schema.is_json() {
                match &parsed {
                    Ok(l) => {
                        for f in Field::ALL {
                            let _ = w.write_field(l.field_text(*f));
                        }
                    }
                    Err(r) => {
                        let _ = w.write_field(&r.list_id);
                        for _ in 1..Field::ALL.len() {
                            let _ = w.write_field("");
                        }
                    }
                }
            } else {
                for c in row.cells.iter() {
                    let _ = w.write_field(c);
                }
                for _ in row.cells.len()..cx.width {
                    let _ = w.write_field("");
                }
            }
        }
        match parsed {
            Ok(list) => {
                if !cx.full {
                    let _ = w.write_field(&list.list_id);
                }
                let (r, trace) = if cx.explain {
                    let (r, t) = cx.grouper.explain(&list.group_input());
                    (r, Some(t))
                } else {
                    (cx.grouper.group(&list.group_input()), None)
                };
                match r.outcome {
                    Outcome::Grouped => st.grouped += 1,
                    Outcome::Ambiguous => st.ambiguous += 1,
                    Outcome::NoGroup | Outcome::MdcWithoutAdrg => st.no_group += 1,
                    _ => st.check_failed += 1,
                }
                for f in [r.status, r.mdc, r.adrg, r.drg, r.drg_name, r.message] {
                    let _ = w.write_field(f);
                }
                if let Some(t) = trace {
                    let _ = w.write_field(t.to_single_line());
                }
            }
            Err(rej) => {
                st.rejected += 1;
                if !cx.full {
                    let _ = w.write_field(&rej.list_id);
                }
                for f in [STATUS_REJECTED, "", "", "", "", &rej.message] {
                    let _ = w.write_field(f);
                }
                if cx.explain {
                    let _ = w.write_field("");
                }
            }
        }
        let _ = w.write_record(end.clone());
    }
    (w.into_inner().unwrap_or_default(), st)
}

fn worker(cx: &Ctx, jobs: &Mutex<Receiver<Job>>, done: std::sync::mpsc::SyncSender<Done>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let (bytes, stats) = process(cx, &job.rows);
        if done.send(Done { seq: job.seq, bytes, stats }).is_err() {
            return;
        }
    }
}

pub fn run(a: Args) -> Result<(), String> {
    let start = Instant::now();
    let mut grouper = load_grouper(&a.scheme, &a.schemes_dir)?;
    grouper.set_translate_codes(a.translate_codes);
    let opts = read_options(&a.encoding, a.format.as_deref())?;
    let mut reader = RecordReader::open(&a.input, &opts).map_err(|e| e.to_string())?;
    let schema = reader.schema().map_err(|e| e.to_string())?;
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);

    let file = std::fs::File::create(&a.output).map_err(|e| format!("无法创建输出文件 {}：{e}", a.output.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut header: Vec<String> = Vec::new();
    let width = if schema.is_json() { Field::ALL.len() } else { schema.headers().len() };
    if a.full {
        if schema.is_json() {
            header.extend(Field::ALL.iter().map(|f| f.key().to_string()));
        } else {
            header.extend(schema.headers().iter().map(str::to_string));
        }
    } else {
        header.push("id".into());
    }
    header.extend(RESULT_COLUMNS.iter().map(|s| s.to_string()));
    if a.explain {
        header.push("explain".into());
    }
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&header).map_err(|e| e.to_string())?;
        w.flush().map_err(|e| e.to_string())?;
    }

    let cx = Ctx { grouper: &grouper, schema: &schema, full: a.full, explain: a.explain, width };
    let progress = std::io::stderr().is_terminal();
    let (job_tx, job_rx) = sync_channel::<Job>(threads * 2);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 4);

    let result: Result<Stats, String> = std::thread::scope(|s| {
        for _ in 0..threads {
            let rx = Arc::clone(&job_rx);
            let tx = done_tx.clone();
            let cx = &cx;
            s.spawn(move || worker(cx, &rx, tx));
        }
        drop(done_tx);
        let out = &mut out;
        let writer = s.spawn(move || -> Result<Stats, String> {
            let mut pending = std::collections::BTreeMap::new();
            let mut next = 0u64;
            let mut total = Stats::default();
            let mut last_report = Instant::now();
            for d in done_rx {
                pending.insert(d.seq, d);
                while let Some(d) = pending.remove(&next) {
                    out.write_all(&d.bytes).map_err(|e| format!("写出失败：{e}"))?;
                    total.add(&d.stats);
                    next += 1;
                }
                if progress && last_report.elapsed().as_secs_f64() > 1.0 {
                    eprint!("\r已分组 {} 条…", total.records);
                    last_report = Instant::now();
                }
            }
            if progress {
                eprint!("\r");
            }
            Ok(total)
        });
        let mut seq = 0u64;
        let mut read_err = None;
        loop {
            let mut rows = Vec::with_capacity(BATCH);
            match reader.fill_batch(&mut rows, BATCH) {
                Ok(0) => break,
                Ok(_) => {
                    if job_tx.send(Job { seq, rows }).is_err() {
                        break;
                    }
                    seq += 1;
                }
                Err(e) => {
                    read_err = Some(e.to_string());
                    break;
                }
            }
        }
        drop(job_tx);
        let stats = writer.join().map_err(|_| "写出线程异常".to_string())??;
        match read_err {
            Some(e) => Err(format!("读取输入在第 {} 条记录后中断：{e}", stats.records)),
            None => Ok(stats),
        }
    });
    let st = result?;
    out.flush().map_err(|e| format!("写出失败：{e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let rate = if st.records > 0 { st.grouped as f64 / st.records as f64 * 100.0 } else { 0.0 };
    let per_sec = st.records as f64 / secs.max(1e-9);
    eprintln!(
        "分组完成（方案 {}）：记录 {}，分组成功 {}，入组率 {:.2}%，歧义 {}，无法入组 {}，信息校验不通过 {}，输入错误 {}；用时 {:.2} 秒，{:.0} 条/秒",
        grouper.id(),
        st.records,
        st.grouped,
        rate,
        st.ambiguous,
        st.no_group,
        st.check_failed,
        st.rejected,
        secs,
        per_sec
    );
    eprintln!(
        "summary: records={} grouped={} grouping_rate={:.4} ambiguous={} failed={} rejected={} seconds={:.3} records_per_s={:.0}",
        st.records,
        st.grouped,
        rate / 100.0,
        st.ambiguous,
        st.no_group + st.check_failed,
        st.rejected,
        secs,
        per_sec
    );
    if let Some(p) = &a.summary_json {
        let j = serde_json::json!({
            "scheme": grouper.id(), "input": a.input, "output": a.output,
            "records": st.records, "grouped": st.grouped, "grouping_rate": rate / 100.0,
            "ambiguous": st.ambiguous, "no_group": st.no_group, "check_failed": st.check_failed,
            "rejected": st.rejected, "seconds": secs, "records_per_second": per_sec, "threads": threads,
        });
        std::fs::write(p, serde_json::to_string_pretty(&j).unwrap_or_default()).map_err(|e| format!("无法写 {}：{e}", p.display()))?;
    }
    Ok(())
}
