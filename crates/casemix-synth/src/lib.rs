//! # casemix-synth
//!
//! A synthetic pooling region (统筹区) that behaves like a real one, deterministic by seed:
//! hospitals, inpatient settlement lists (canonical form of `shared/docs/settlement-list.md`),
//! outpatient/pharmacy claims of the same insured people, itemised charges of every stay
//! (费用明细, [`charges`]: each category's fee split exactly over items; the treatment of each
//! genuine diagnosis leaves its module's items), and labelled injected behaviours
//! (`shared/docs/audit.md`): upcoding, split admission, low-standard admission, cost shifting,
//! under-provision, overlong stay, duplicate list.
//!
//! Case mix comes from a DRG scheme: every ADRG gets a recipe (principal diagnosis / procedure
//! from its own lists, verified with the real [`Grouper`]); each generated case is grouped and
//! its cost and length of stay are drawn log-normally from the DRG it actually reaches.
//!
//! Pure core: [`Generator::run`] pushes rows into a [`Sink`]; [`write::CsvSink`] formats CSV to
//! any `io::Write`. Generation proceeds month by month, a batch of hospital-months at a time
//! (optionally on several threads), so a province year streams in bounded memory. Every
//! hospital-month has its own ChaCha8 stream, so output does not depend on thread count.

pub mod catalogue;
pub mod charges;
pub mod config;
pub mod generate;
pub mod hospitals;
pub mod money;
pub mod rng;
pub mod stats;
pub mod write;

pub use catalogue::{Catalogue, GroupKind, SchemeTables};
pub use config::{ChargeModel, Kind, Profile, SynthConfig};
pub use generate::{Chunk, Label, Row};
pub use hospitals::{Hospital, Level};
pub use stats::{Figures, Summary};

use casemix_grouper::Grouper;
use casemix_model::{ChargeItem, Claim, SettlementList};
use std::collections::BTreeMap;

/// Where generated rows go. Rows arrive in a deterministic order.
pub trait Sink {
    fn hospital(&mut self, h: &Hospital) -> Result<(), String>;
    fn settlement(&mut self, l: &SettlementList) -> Result<(), String>;
    fn claim(&mut self, c: &Claim) -> Result<(), String>;
    fn label(&mut self, l: &Label) -> Result<(), String>;
    /// One itemised charge (费用明细); default: dropped.
    fn charge(&mut self, _c: &ChargeItem) -> Result<(), String> {
        Ok(())
    }
    /// Called after each month with (year, month, lists so far); default: nothing.
    fn progress(&mut self, _year: i32, _month: u32, _lists: u64) {}
    /// A CSV sink answers true: the generator then renders each hospital-month's rows to CSV
    /// bytes on its worker threads ([`write::render_chunk`]) and hands them to
    /// [`Sink::rendered`] instead of calling `settlement`/`claim`/`label` row by row.
    fn renders_csv(&self) -> bool {
        false
    }
    fn rendered(&mut self, _chunk: &write::Rendered) -> Result<(), String> {
        Ok(())
    }
}

/// Collects everything in memory (tests, small regions).
#[derive(Debug, Default)]
pub struct VecSink {
    pub hospitals: Vec<Hospital>,
    pub lists: Vec<SettlementList>,
    pub claims: Vec<Claim>,
    pub charges: Vec<ChargeItem>,
    pub labels: Vec<Label>,
}

impl Sink for VecSink {
    fn hospital(&mut self, h: &Hospital) -> Result<(), String> {
        self.hospitals.push(h.clone());
        Ok(())
    }
    fn settlement(&mut self, l: &SettlementList) -> Result<(), String> {
        self.lists.push(l.clone());
        Ok(())
    }
    fn claim(&mut self, c: &Claim) -> Result<(), String> {
        self.claims.push(c.clone());
        Ok(())
    }
    fn label(&mut self, l: &Label) -> Result<(), String> {
        self.labels.push(l.clone());
        Ok(())
    }
    fn charge(&mut self, c: &ChargeItem) -> Result<(), String> {
        self.charges.push(c.clone());
        Ok(())
    }
}

/// One finished hospital-month on its way from a worker to the sink.
struct Done {
    acc: stats::YearAcc,
    lists: u64,
    chunk: Option<Chunk>,
    rendered: Option<write::Rendered>,
}

/// A configured region generator.
pub struct Generator<'g> {
    grouper: &'g Grouper,
    cat: Catalogue,
    cfg: SynthConfig,
    hospitals: Vec<Hospital>,
}

/// Zipf exponent of ADRG popularity: tuned so the 50 most frequent DRGs carry about half of
/// the volume (issue 3).
pub const ZIPF_EXPONENT: f64 = 0.8;

impl<'g> Generator<'g> {
    pub fn new(grouper: &'g Grouper, tables: &SchemeTables, cfg: SynthConfig) -> Result<Generator<'g>, String> {
        let cat = Catalogue::build(grouper, tables, ZIPF_EXPONENT)?;
        if cat.verified_count() == 0 {
            return Err("分组方案中没有可生成的 ADRG（no ADRG recipe verified）".into());
        }
        let hospitals = hospitals::roster(&cfg);
        Ok(Generator { grouper, cat, cfg, hospitals })
    }
    pub fn hospitals(&self) -> &[Hospital] {
        &self.hospitals
    }
    pub fn catalogue(&self) -> &Catalogue {
        &self.cat
    }
    pub fn config(&self) -> &SynthConfig {
        &self.cfg
    }

    /// Generates the whole region into `sink` and returns the summary.
    pub fn run(&self, sink: &mut dyn Sink) -> Result<Summary, String> {
        let ctx = generate::Ctx::new(self.grouper, &self.cat, &self.cfg, &self.hospitals);
        for h in &self.hospitals {
            sink.hospital(h)?;
        }
        let mut years: BTreeMap<i32, stats::YearAcc> = BTreeMap::new();
        let threads = self.cfg.threads.max(1);
        let render = sink.renders_csv();
        // tasks in output order: year → month → hospital
        let n = self.hospitals.len();
        let tasks: Vec<(i32, u32, usize)> =
            self.cfg.years().flat_map(|y| (1..=12u32).flat_map(move |m| (0..n).map(move |h| (y, m, h)))).collect();
        // a worker makes a hospital-month; with a CSV sink it also renders the rows, takes the
        // statistics and drops the rows, so the writing thread only copies bytes
        let make = |t: &(i32, u32, usize)| {
            let c = ctx.chunk(t.2, t.0, t.1);
            if render {
                let mut acc = stats::YearAcc::default();
                acc.add_chunk(&c);
                let lists = c.rows.len() as u64;
                Done { acc, lists, chunk: None, rendered: Some(write::render_chunk(&c)) }
            } else {
                Done { acc: stats::YearAcc::default(), lists: c.rows.len() as u64, chunk: Some(c), rendered: None }
            }
        };
        let mut lists = 0u64;
        let mut emit = |i: usize, d: Done, years: &mut BTreeMap<i32, stats::YearAcc>| -> Result<(), String> {
            let (year, month, h) = tasks[i];
            let acc = years.entry(year).or_default();
            if let Some(b) = &d.rendered {
                acc.merge(&d.acc);
                sink.rendered(b)?;
            }
            if let Some(c) = &d.chunk {
                acc.add_chunk(c);
                for r in &c.rows {
                    sink.settlement(&r.list)?;
                }
                for cl in &c.claims {
                    sink.claim(cl)?;
                }
                for l in &c.labels {
                    sink.label(l)?;
                }
                for x in &c.charges {
                    sink.charge(x)?;
                }
            }
            lists += d.lists;
            if h + 1 == n {
                sink.progress(year, month, lists);
            }
            Ok(())
        };
        if threads == 1 {
            for (i, t) in tasks.iter().enumerate() {
                emit(i, make(t), &mut years)?;
            }
        } else {
            // worker k makes tasks k, k+T, k+2T, … into its own bounded channel; this thread takes
            // them round-robin, so rows come out in task order and at most T×4 hospital-months
            // are in memory (bounded whatever the region size). Writing overlaps generation.
            let res: Result<(), String> = std::thread::scope(|s| {
                let mut rx = Vec::with_capacity(threads);
                for k in 0..threads {
                    let (tx, r) = std::sync::mpsc::sync_channel(4);
                    rx.push(r);
                    let make = &make;
                    let tasks = &tasks;
                    s.spawn(move || {
                        let mut i = k;
                        while i < tasks.len() {
                            if tx.send(make(&tasks[i])).is_err() {
                                return; // the receiver stopped (write error)
                            }
                            i += threads;
                        }
                    });
                }
                for i in 0..tasks.len() {
                    let d = rx[i % threads].recv().map_err(|_| "生成线程异常退出 (worker thread died)".to_string())?;
                    emit(i, d, &mut years)?;
                }
                Ok(())
            });
            res?;
        }
        for y in self.cfg.years() {
            years.entry(y).or_default();
        }
        let mut by_level = BTreeMap::new();
        for h in &self.hospitals {
            *by_level.entry(h.level.label_zh().to_string()).or_insert(0) += 1;
        }
        let extra = stats::SummaryExtra {
            hospitals: self.hospitals.len(),
            by_level,
            bad_actors: self.hospitals.iter().filter(|h| h.is_bad_actor()).map(|h| h.code.clone()).collect(),
            price: ctx.price.clone(),
            recipes: self.cat.verified_count(),
        };
        Ok(stats::summary(&self.cfg, self.grouper.id(), &years, extra))
    }
}
