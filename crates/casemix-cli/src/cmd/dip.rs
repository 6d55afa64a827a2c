//! `casemix dip group`: assigns each case of a file its DIP 病种 from a catalogue built by
//! `casemix calibrate dip` (core/basic first, then the core 病种 matching most procedures, then
//! the comprehensive 病种, with the auxiliary adjustment), or `未入组` with the reason.
//! One output row per input record, in input order; rejected records have status `输入错误`.
//! Columns: `id,status,dip_code,dip_kind,dip_name,score,aux_level,aux_factor,message` (+ `trace`
//! with `--explain`; all input columns first with `--full`). `status` = 入组 / 未入组 / 输入错误;
//! `dip_kind` = core / basic / comprehensive (as `catalogue.csv`); `aux_level` = `S<severity>/A<age band>`.

use casemix_dip::{Catalogue, CatalogueData, DipCase};
use casemix_io::{ReadOptions, RecordReader};
use casemix_model::{Field, Fen, SettlementList};
use chrono::Datelike;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// 按 DIP 病种目录库为病例入组 (assign DIP 病种)
    Group(GroupArgs),
}

#[derive(clap::Args)]
pub struct GroupArgs {
    /// 目录库目录（casemix calibrate dip 的输出，含 catalogue.json）(catalogue directory)
    #[arg(long)]
    pub catalogue: PathBuf,
    /// 输入结算清单文件（CSV/JSONL/XLSX）(input settlement lists)
    pub input: PathBuf,
    /// 输出 CSV 文件 (output file)
    #[arg(short, long)]
    pub output: PathBuf,
    /// 增加入组过程说明列 trace (add the explanation column)
    #[arg(long)]
    pub explain: bool,
    /// 先输出全部输入列，再输出入组结果列 (all input columns first)
    #[arg(long)]
    pub full: bool,
    /// 线程数（默认全部核心）(threads)
    #[arg(long)]
    pub threads: Option<usize>,
}

pub const RESULT_COLUMNS: [&str; 9] = ["id", "status", "dip_code", "dip_kind", "dip_name", "score", "aux_level", "aux_factor", "message"];

pub fn run(a: Args) -> Result<(), String> {
    match a.cmd {
        Sub::Group(g) => run_group(g),
    }
}

/// Loads `catalogue.json` of a catalogue directory.
pub fn load_catalogue(dir: &Path) -> Result<Catalogue, String> {
    let p = dir.join("catalogue.json");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("无法读取目录库 {}：{e}", p.display()))?;
    let data: CatalogueData = serde_json::from_str(&text).map_err(|e| format!("目录库 {} 格式错误：{e}", p.display()))?;
    Ok(Catalogue::from_data(data))
}

fn result_cells(cat: &Catalogue, l: &SettlementList, explain: bool) -> (Vec<String>, Option<casemix_dip::DipKind>, bool) {
    let c = DipCase {
        year: l.discharge_time.map(|d| d.year()).unwrap_or(0),
        diagnoses: &l.diagnoses,
        procedures: &l.procedures,
        cost: l.total_cost.unwrap_or(Fen::ZERO),
        los: l.los_days.unwrap_or(0),
        leaving_type: l.leaving_type.map(|x| x.code()),
        age_years: l.age_years,
        age_days: l.age_days,
    };
    let r = cat.assign(&c);
    let mut v = vec![
        l.list_id.clone(),
        r.status_zh().to_string(),
        r.dip_code.clone(),
        r.kind.map(|k| k.key().to_string()).unwrap_or_default(),
        r.name.clone(),
        r.score.map(|s| s.to_string()).unwrap_or_default(),
        r.aux_level.clone(),
        if r.is_grouped() { r.aux_factor.to_string() } else { String::new() },
        r.message.clone(),
    ];
    if explain {
        v.push(r.trace.join("；"));
    }
    (v, r.kind, r.is_grouped())
}

fn run_group(a: GroupArgs) -> Result<(), String> {
    let cat = load_catalogue(&a.catalogue)?;
    let nt = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)).max(1);
    let mut rdr = RecordReader::open(&a.input, &ReadOptions::default()).map_err(|e| format!("{}：{e}", a.input.display()))?;
    let schema = rdr.schema().map_err(|e| format!("{}：{e}", a.input.display()))?;
    let json = schema.is_json();
    let f = std::fs::File::create(&a.output).map_err(|e| format!("无法写入 {}：{e}", a.output.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
    let err = |e: csv::Error| format!("写入失败：{e}");
    let mut header: Vec<String> = Vec::new();
    let n_input = if a.full {
        if json {
            header.extend(Field::ALL.iter().map(|f| f.key().to_string()));
            Field::ALL.len()
        } else {
            header.extend(rdr.headers().iter().map(str::to_string));
            rdr.headers().len()
        }
    } else {
        0
    };
    // with --full the input's own list_id column identifies the record: no second id column
    // (casemix-io would read `id` as a duplicate of list_id)
    let skip_id = usize::from(a.full);
    header.extend(RESULT_COLUMNS.iter().skip(skip_id).map(|s| s.to_string()));
    if a.explain {
        header.push("trace".into());
    }
    w.write_record(&header).map_err(err)?;
    let (mut total, mut grouped, mut rejected) = (0usize, 0usize, 0usize);
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut batch = Vec::new();
    while rdr.fill_batch(&mut batch, 8192).map_err(|e| format!("{}：{e}", a.input.display()))? > 0 {
        let chunk = batch.len().div_ceil(nt);
        let parts: Vec<Vec<(Vec<String>, Option<casemix_dip::DipKind>, Option<bool>)>> = std::thread::scope(|s| {
            let hs: Vec<_> = batch
                .chunks(chunk)
                .map(|rows| {
                    let (schema, cat) = (&schema, &cat);
                    let (full, explain) = (a.full, a.explain);
                    s.spawn(move || {
                        rows.iter()
                            .map(|row| {
                                let mut cells: Vec<String> = Vec::new();
                                match schema.parse(row) {
                                    Ok(l) => {
                                        if full {
                                            if json {
                                                cells.extend(Field::ALL.iter().map(|f| l.field_text(*f)));
                                            } else {
                                                cells.extend(row.cells.iter().map(str::to_string));
                                                cells.resize(n_input, String::new());
                                            }
                                        }
                                        let (v, k, g) = result_cells(cat, &l, explain);
                                        cells.extend(v);
                                        (cells, k, Some(g))
                                    }
                                    Err(r) => {
                                        if full {
                                            if json {
                                                cells.resize(n_input, String::new());
                                            } else {
                                                cells.extend(row.cells.iter().map(str::to_string));
                                                cells.resize(n_input, String::new());
                                            }
                                        }
                                        cells.extend([r.list_id.clone(), "输入错误".into(), String::new(), String::new(), String::new(), String::new(), String::new(), String::new(), r.message.clone()]);
                                        if explain {
                                            cells.push(format!("字段 {}，规则 {}", r.field, r.rule));
                                        }
                                        (cells, None, None)
                                    }
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().map(|j| j.join().expect("worker thread")).collect()
        });
        for (mut cells, kind, g) in parts.into_iter().flatten() {
            total += 1;
            if skip_id == 1 {
                cells.remove(n_input);
            }
            match g {
                None => rejected += 1,
                Some(true) => {
                    grouped += 1;
                    *kinds.entry(kind.map(|k| k.label_zh()).unwrap_or("")).or_default() += 1;
                }
                Some(false) => {
                    let msg = &cells[n_input + 8 - skip_id];
                    let reason = msg.split('：').next().unwrap_or(msg).to_string();
                    *reasons.entry(reason).or_default() += 1;
                }
            }
            w.write_record(&cells).map_err(err)?;
        }
    }
    w.flush().map_err(|e| format!("写入失败：{e}"))?;
    let valid = total - rejected;
    eprintln!(
        "DIP 入组完成：记录 {}，输入错误 {}，入组 {}，未入组 {}；入组率 {:.2}%（入组 ÷ 有效记录）",
        total,
        rejected,
        grouped,
        valid - grouped,
        grouped as f64 * 100.0 / valid.max(1) as f64
    );
    for (k, n) in &kinds {
        eprintln!("  {k}：{n}");
    }
    for (r, n) in &reasons {
        eprintln!("  未入组 — {r}：{n}");
    }
    eprintln!("输出：{}", a.output.display());
    let _ = std::io::stderr().flush();
    Ok(())
}
