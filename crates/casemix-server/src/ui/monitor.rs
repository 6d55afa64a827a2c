//! 运行监测 dashboard and hospital view bodies (pure: data in, maud `Markup` out).
//!
//! Routes the links follow: `/monitor?level=region|tier|hospital&tier=<t>&from=YYYY-MM&to=YYYY-MM`,
//! `/hospitals/<code>?from=&to=&dept=&drg=&flagged=&sort=&desc=&page=`, `/cases/<hospital_code>/<list_id>`, and
//! `/export/<name>.xlsx?<same query>` for every table.
//!
//! Stable ids — tables (`name` = export name):
//! - dashboard: `tbl-units` (`units`: the level's own rows at region and tier level), `tbl-tiers`
//!   (`tiers`, region level), `tbl-hospitals` (`hospitals`; at hospital level it is the level's table), `tbl-methods` (`methods`), `tbl-trend` (`trend`), `tbl-top-groups`
//!   (`top-groups`), `tbl-volume-changes` (`volume-changes`), `tbl-dispersed` (`dispersed`);
//!   rows for the exporter: [`dashboard_table`] over [`DASHBOARD_TABLES`].
//! - hospital view: `tbl-compare` (`hospital-compare`), `tbl-departments` (`hospital-departments`),
//!   `tbl-cases` (`hospital-cases`); rows: [`hospital_table`] over [`HOSPITAL_TABLES`].
//!
//! Charts: `chart-trend`, `chart-cases`, `chart-method`, `chart-grouping`, `chart-cmi`,
//! `chart-scatter`, `chart-cost-dist`, `chart-burden`; hospital view: `chart-compare`,
//! `chart-departments`. KPI cards: `kpi-<name>` (see [`kpis`]). Forms: `form-monitor`,
//! `form-hospital`; level switch `level-switch`; pager `pager`.

use casemix_model::dept::dept_label_zh;
use super::charts::{self, Point, Series, XY};
use casemix_lake::ratio::{units_text, yuan};
use casemix_lake::{Dashboard, HospitalView, Indicators, Level, Ratio, SortColumn, UnitRow};
use maud::{html, Markup};

/// Page context the data does not carry.
#[derive(Debug, Clone, Default)]
pub struct MonitorCtx {
    /// Tier labels offered in the tier filter (the dashboard's own tiers are added).
    pub tiers: Vec<String>,
    /// Link hospital rows to their hospital view (false for a user who may not open them).
    pub drill: bool,
}

/// The export names of the dashboard's tables.
pub const DASHBOARD_TABLES: [&str; 8] = [
    "units",
    "tiers",
    "hospitals",
    "methods",
    "trend",
    "top-groups",
    "volume-changes",
    "dispersed",
];
/// The export names of the hospital view's tables.
pub const HOSPITAL_TABLES: [&str; 3] =
    ["hospital-compare", "hospital-departments", "hospital-cases"];

/// A table as plain text: header and rows (what the page shows and the exporter writes).
pub type TextTable = (Vec<String>, Vec<Vec<String>>);

/// Percent-encodes a query value (everything but unreserved ASCII).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Chinese label of a pricing method code (`casemix_pricing::Method::code`); unknown codes as-is.
pub fn method_zh(code: &str) -> String {
    match code {
        "group" => "按病组/病种",
        "per_bed_day" => "按床日",
        "day_surgery" => "日间手术",
        "fee_for_service" => "按项目",
        "ffs_points" => "按项目折算点数",
        "special_case" => "特病单议",
        "not_paid" => "不予支付",
        other => return other.to_string(),
    }
    .to_string()
}

/// Chinese label of an outlier code (`casemix_pricing::Outlier::code`).
pub fn outlier_zh(code: &str) -> String {
    match code {
        "normal" => "正常",
        "high" => "高倍率",
        "low" => "低倍率",
        "incomplete" => "不完整住院",
        other => return other.to_string(),
    }
    .to_string()
}

/// Chinese label of a group status.
pub fn status_zh(s: &str) -> &'static str {
    match s {
        "grouped" => "已入组",
        "ambiguous" => "歧义(QY)",
        _ => "无法入组",
    }
}

/// Audit rule keys (comma-separated) as Chinese labels.
pub fn rules_zh(keys: &str) -> String {
    keys.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            casemix_audit::AuditRule::from_key(k)
                .map(|r| r.label_zh().to_string())
                .unwrap_or_else(|| k.to_string())
        })
        .collect::<Vec<_>>()
        .join("、")
}

fn opt_dec(d: Option<casemix_lake::Decimal>) -> String {
    d.map(|d| format!("{d:.4}")).unwrap_or_else(|| "—".into())
}

/// A ratio as f64 for chart geometry only (display).
fn f(r: Ratio) -> f64 {
    if r.den == 0 {
        0.0
    } else {
        r.num as f64 / r.den as f64
    }
}

fn dec_f(d: Option<casemix_lake::Decimal>) -> f64 {
    d.map(|d| d.to_string().parse::<f64>().unwrap_or(0.0))
        .unwrap_or(0.0)
}

/// The dashboard's query string (without `?`), optionally at another level.
fn monitor_query(d: &Dashboard, level: Level, tier: Option<&str>) -> String {
    let mut q = format!("level={}", level.code());
    if let Some(t) = tier {
        q.push_str(&format!("&tier={}", enc(t)));
    }
    q.push_str(&format!("&from={}&to={}", d.range.from, d.range.to));
    q
}

fn period_query(d: &Dashboard) -> String {
    format!("from={}&to={}", d.range.from, d.range.to)
}

/// The KPI cards of the dashboard: (id, label, value).
pub fn kpis(t: &Indicators) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("kpi-cases", "出院人次", t.cases.to_string()),
        (
            "kpi-cost-per-case",
            "次均费用(元)",
            t.cost_per_case().yuan_text(),
        ),
        ("kpi-los", "平均住院日", t.mean_los().text(2)),
        ("kpi-total-cost", "医疗总费用(元)", yuan(t.total_cost_fen)),
        ("kpi-payment", "病组支付(元)", yuan(t.payment_fen)),
        ("kpi-fund", "统筹基金支付(元)", yuan(t.fund_pay_fen)),
        ("kpi-cmi", "CMI", t.cmi().text(4)),
        ("kpi-weight", "总权重", t.total_weight().text(4)),
        ("kpi-drg-count", "DRG 组数", t.drg_count.to_string()),
        (
            "kpi-grouping-rate",
            "入组率",
            t.grouping_rate().percent_text(2),
        ),
        ("kpi-time-index", "时间消耗指数", opt_dec(t.time_index)),
        ("kpi-cost-index", "费用消耗指数", opt_dec(t.cost_index)),
        (
            "kpi-lowrisk-mortality",
            "低风险组死亡率",
            t.low_risk_mortality().percent_text(2),
        ),
        (
            "kpi-personal-burden",
            "个人负担率",
            t.personal_burden_rate().percent_text(2),
        ),
        (
            "kpi-selfpay-share",
            "全自费占比",
            t.selfpay_share().percent_text(2),
        ),
        ("kpi-profit", "盈亏(元)", yuan(t.profit_fen())),
    ]
}

fn cards(items: &[(&'static str, &'static str, String)]) -> Markup {
    html! {
        div.cards {
            @for (id, k, v) in items {
                div.card id=(id) { div.v { (v) } div.k { (k) } }
            }
        }
    }
}

/// Renders a text table with a stable id, sortable, with an export link; `links[i]` makes the
/// first cell of row `i` a link; the first `text_cols` columns are text, the rest numbers.
fn table(
    id: &str,
    export: &str,
    query: &str,
    t: &TextTable,
    links: &[Option<String>],
    text_cols: usize,
) -> Markup {
    let (header, rows) = t;
    html! {
        div.tablewrap {
            table.sortable id=(id) {
                thead { tr { @for (i, h) in header.iter().enumerate() { th class=[(i >= text_cols).then_some("num")] { (h) } } } }
                tbody {
                    @for (r, row) in rows.iter().enumerate() {
                        tr {
                            @for (i, c) in row.iter().enumerate() {
                                td class=[(i >= text_cols).then_some("num")] {
                                    @if i == 0 {
                                        @if let Some(Some(href)) = links.get(r) { a href=(href) { (c) } } @else { (c) }
                                    } @else { (c) }
                                }
                            }
                        }
                    }
                    @if rows.is_empty() { tr { td.muted colspan=(header.len()) { "（无数据）" } } }
                }
            }
            a.export href={"/export/" (export) ".xlsx?" (query)} id={"export-" (export)} { "导出 Excel" }
        }
    }
}

const UNIT_HEADER: [&str; 19] = [
    "名称",
    "编码",
    "等级",
    "出院人次",
    "入组率",
    "CMI",
    "总权重",
    "DRG组数",
    "次均费用(元)",
    "平均住院日",
    "时间消耗指数",
    "费用消耗指数",
    "低风险组死亡率",
    "个人负担率",
    "全自费占比",
    "医疗总费用(元)",
    "病组支付(元)",
    "盈亏(元)",
    "疑点病例",
];

fn unit_rows(units: &[UnitRow]) -> TextTable {
    let header = UNIT_HEADER.iter().map(|s| s.to_string()).collect();
    let rows = units
        .iter()
        .map(|u| {
            let i = &u.ind;
            vec![
                u.label.clone(),
                u.key.clone(),
                u.tier.clone(),
                i.cases.to_string(),
                i.grouping_rate().percent_text(2),
                i.cmi().text(4),
                i.total_weight().text(4),
                i.drg_count.to_string(),
                i.cost_per_case().yuan_text(),
                i.mean_los().text(2),
                opt_dec(i.time_index),
                opt_dec(i.cost_index),
                i.low_risk_mortality().percent_text(2),
                i.personal_burden_rate().percent_text(2),
                i.selfpay_share().percent_text(2),
                yuan(i.total_cost_fen),
                yuan(i.payment_fen),
                yuan(i.profit_fen()),
                i.flagged_cases.to_string(),
            ]
        })
        .collect();
    (header, rows)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The rows of a dashboard table by its export name (None for an unknown name).
pub fn dashboard_table(d: &Dashboard, name: &str) -> Option<TextTable> {
    Some(match name {
        "units" => unit_rows(&d.units),
        "tiers" => unit_rows(&d.tiers),
        "hospitals" => unit_rows(&d.hospitals),
        "methods" => {
            let total: i64 = d.by_method.iter().map(|m| m.payment_fen).sum();
            (
                s(&[
                    "支付方式",
                    "方式编码",
                    "病例数",
                    "支付金额(元)",
                    "医疗总费用(元)",
                    "支付占比",
                ]),
                d.by_method
                    .iter()
                    .map(|m| {
                        vec![
                            method_zh(&m.method),
                            m.method.clone(),
                            m.cases.to_string(),
                            yuan(m.payment_fen),
                            yuan(m.total_cost_fen),
                            Ratio::new(m.payment_fen, total).percent_text(2),
                        ]
                    })
                    .collect(),
            )
        }
        "trend" => (
            s(&[
                "月份",
                "出院人次",
                "医疗总费用(元)",
                "次均费用(元)",
                "平均住院日",
                "病组支付(元)",
                "统筹基金支付(元)",
                "个人负担(元)",
                "CMI",
            ]),
            d.trend
                .iter()
                .map(|m| {
                    vec![
                        m.period.to_string(),
                        m.cases.to_string(),
                        yuan(m.total_cost_fen),
                        Ratio::new(m.total_cost_fen, m.cases).yuan_text(),
                        Ratio::new(m.los_days, m.cases).text(2),
                        yuan(m.payment_fen),
                        yuan(m.fund_pay_fen),
                        yuan(m.personal_pay_fen),
                        Ratio::new(m.weight_units, m.grouped.saturating_mul(10_000)).text(4),
                    ]
                })
                .collect(),
        ),
        "top-groups" | "dispersed" => {
            let list = if name == "top-groups" {
                &d.groups.top_weight
            } else {
                &d.groups.dispersed
            };
            (
                s(&[
                    "病组",
                    "病组名称",
                    "权重",
                    "病例数",
                    "例均费用(元)",
                    "平均住院日",
                    "费用变异系数",
                ]),
                list.iter()
                    .map(|g| {
                        vec![
                            g.drg.clone(),
                            g.drg_name.clone(),
                            units_text(g.weight_units),
                            g.cases.to_string(),
                            g.mean_cost().yuan_text(),
                            g.mean_los().text(2),
                            g.cost_cv
                                .map(|c| format!("{c:.3}"))
                                .unwrap_or_else(|| "—".into()),
                        ]
                    })
                    .collect(),
            )
        }
        "volume-changes" => (
            s(&["病组", "病组名称", "本期病例数", "上期病例数", "变化率"]),
            d.groups
                .volume_changes
                .iter()
                .map(|v| {
                    vec![
                        v.drg.clone(),
                        v.drg_name.clone(),
                        v.cases.to_string(),
                        v.previous_cases.to_string(),
                        v.change
                            .map(|c| c.percent_text(1))
                            .unwrap_or_else(|| "新增".into()),
                    ]
                })
                .collect(),
        ),
        _ => return None,
    })
}

fn unit_links(
    units: &[UnitRow],
    d: &Dashboard,
    kind: Level,
    ctx: &MonitorCtx,
) -> Vec<Option<String>> {
    units
        .iter()
        .map(|u| match kind {
            Level::Region => Some(format!("/monitor?{}", monitor_query(d, Level::Tier, None))),
            Level::Tier => Some(format!(
                "/monitor?{}",
                monitor_query(d, Level::Hospital, Some(&u.key))
            )),
            Level::Hospital => ctx
                .drill
                .then(|| format!("/hospitals/{}?{}", enc(&u.key), period_query(d))),
        })
        .collect()
}

/// The 运行监测 page body.
pub fn monitor_body(d: &Dashboard, ctx: &MonitorCtx) -> Markup {
    let q = monitor_query(d, d.level, d.tier.as_deref());
    let t = &d.totals;
    let mut tiers: Vec<String> = ctx.tiers.clone();
    for u in &d.tiers {
        if !tiers.contains(&u.key) {
            tiers.push(u.key.clone());
        }
    }
    let months: Vec<String> = d.trend.iter().map(|m| m.period.to_string()).collect();
    let wan = |fen: i64| fen as f64 / 1_000_000.0; // fen → 万元
    let trend_chart = charts::line(
        "chart-trend",
        "月度费用与支付趋势",
        "万元",
        &months,
        &[
            Series {
                name: "医疗总费用".into(),
                values: d.trend.iter().map(|m| wan(m.total_cost_fen)).collect(),
                texts: d
                    .trend
                    .iter()
                    .map(|m| format!("{} 元", yuan(m.total_cost_fen)))
                    .collect(),
            },
            Series {
                name: "病组支付".into(),
                values: d.trend.iter().map(|m| wan(m.payment_fen)).collect(),
                texts: d
                    .trend
                    .iter()
                    .map(|m| format!("{} 元", yuan(m.payment_fen)))
                    .collect(),
            },
            Series {
                name: "统筹基金支付".into(),
                values: d.trend.iter().map(|m| wan(m.fund_pay_fen)).collect(),
                texts: d
                    .trend
                    .iter()
                    .map(|m| format!("{} 元", yuan(m.fund_pay_fen)))
                    .collect(),
            },
        ],
    );
    let cases_chart = charts::bar(
        "chart-cases",
        "月度出院人次",
        "人次",
        &d.trend
            .iter()
            .map(|m| Point {
                label: m.period.to_string(),
                value: m.cases as f64,
                text: format!("{} 人次", m.cases),
            })
            .collect::<Vec<_>>(),
    );
    let method_chart = charts::bar(
        "chart-method",
        "按支付方式的支付金额",
        "万元",
        &d.by_method
            .iter()
            .map(|m| Point {
                label: method_zh(&m.method),
                value: wan(m.payment_fen),
                text: format!("{} 元，{} 例", yuan(m.payment_fen), m.cases),
            })
            .collect::<Vec<_>>(),
    );
    let grouping_chart = charts::bar(
        "chart-grouping",
        "入组情况",
        "病例数",
        &[
            Point {
                label: "已入组".into(),
                value: t.grouped as f64,
                text: format!("{} 例", t.grouped),
            },
            Point {
                label: "歧义(QY)".into(),
                value: t.ambiguous as f64,
                text: format!("{} 例", t.ambiguous),
            },
            Point {
                label: "无法入组".into(),
                value: t.ungrouped as f64,
                text: format!("{} 例", t.ungrouped),
            },
        ],
    );
    let cmp_units: &[UnitRow] = if d.level == Level::Region {
        &d.tiers
    } else {
        &d.units
    };
    let cmi_chart = charts::grouped_bar(
        "chart-cmi",
        "CMI 与消耗指数",
        "指数",
        &cmp_units
            .iter()
            .map(|u| u.label.clone())
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "CMI".into(),
                values: cmp_units.iter().map(|u| f(u.ind.cmi())).collect(),
                texts: cmp_units.iter().map(|u| u.ind.cmi().text(4)).collect(),
            },
            Series {
                name: "时间消耗指数".into(),
                values: cmp_units.iter().map(|u| dec_f(u.ind.time_index)).collect(),
                texts: cmp_units
                    .iter()
                    .map(|u| opt_dec(u.ind.time_index))
                    .collect(),
            },
            Series {
                name: "费用消耗指数".into(),
                values: cmp_units.iter().map(|u| dec_f(u.ind.cost_index)).collect(),
                texts: cmp_units
                    .iter()
                    .map(|u| opt_dec(u.ind.cost_index))
                    .collect(),
            },
        ],
    );
    let scatter = charts::scatter(
        "chart-scatter",
        "医疗机构 CMI 与费用消耗指数",
        "CMI",
        "费用消耗指数",
        &d.hospitals
            .iter()
            .filter(|u| u.ind.grouped > 0)
            .map(|u| XY {
                label: u.label.clone(),
                x: f(u.ind.cmi()),
                y: dec_f(u.ind.cost_index),
                text: format!(
                    "CMI {}，费用消耗指数 {}，{} 人次",
                    u.ind.cmi().text(4),
                    opt_dec(u.ind.cost_index),
                    u.ind.cases
                ),
                href: ctx
                    .drill
                    .then(|| format!("/hospitals/{}?{}", enc(&u.key), period_query(d))),
            })
            .collect::<Vec<_>>(),
        Some(1.0),
        Some(1.0),
    );
    let cost_dist = charts::histogram(
        "chart-cost-dist",
        "医疗机构次均费用分布",
        "次均费用(元)",
        &d.hospitals
            .iter()
            .filter(|u| u.ind.cases > 0)
            .map(|u| f(u.ind.cost_per_case()) / 100.0)
            .collect::<Vec<_>>(),
        10,
        &|v| format!("{v:.0}"),
    );
    let burden_units: &[UnitRow] = if d.level == Level::Region {
        &d.tiers
    } else {
        &d.units
    };
    let burden_chart = charts::grouped_bar(
        "chart-burden",
        "个人负担率与全自费占比",
        "%",
        &burden_units
            .iter()
            .map(|u| u.label.clone())
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "个人负担率".into(),
                values: burden_units
                    .iter()
                    .map(|u| f(u.ind.personal_burden_rate()) * 100.0)
                    .collect(),
                texts: burden_units
                    .iter()
                    .map(|u| u.ind.personal_burden_rate().percent_text(2))
                    .collect(),
            },
            Series {
                name: "全自费占比".into(),
                values: burden_units
                    .iter()
                    .map(|u| f(u.ind.selfpay_share()) * 100.0)
                    .collect(),
                texts: burden_units
                    .iter()
                    .map(|u| u.ind.selfpay_share().percent_text(2))
                    .collect(),
            },
        ],
    );
    let all = kpis(t);
    let pick = |ids: &[&str]| {
        all.iter()
            .filter(|k| ids.contains(&k.0))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (unit_id, unit_export) = match d.level {
        Level::Region | Level::Tier => ("tbl-units", "units"),
        Level::Hospital => ("tbl-hospitals", "hospitals"),
    };
    html! {
        form.box #form-monitor method="get" action="/monitor" {
            label { "层级 " select name="level" {
                @for l in [Level::Region, Level::Tier, Level::Hospital] { option value=(l.code()) selected[l == d.level] { (l.label_zh()) } }
            } }
            label { "医院等级 " select name="tier" {
                option value="" selected[d.tier.is_none()] { "全部" }
                @for t in &tiers { option value=(t) selected[d.tier.as_deref() == Some(t.as_str())] { (t) } }
            } }
            label { "起始月份 " input type="month" name="from" value=(d.range.from.to_string()) required; }
            label { "截止月份 " input type="month" name="to" value=(d.range.to.to_string()) required; }
            input type="submit" value="查询";
        }
        nav #level-switch {
            "切换层级："
            @for l in [Level::Region, Level::Tier, Level::Hospital] {
                @if l == d.level { strong { (l.label_zh()) } } @else { a href={"/monitor?" (monitor_query(d, l, d.tier.as_deref()))} { (l.label_zh()) } }
                " "
            }
            span.muted { "期间 " (d.range) "（环比期间 " (d.previous) "）" @if let Some(t) = &d.tier { "，等级 " (t) } }
        }

        h2 #block-fund { "一、基金运行" }
        (cards(&pick(&["kpi-cases", "kpi-cost-per-case", "kpi-los", "kpi-total-cost", "kpi-payment", "kpi-fund", "kpi-profit"])))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (trend_chart) (cases_chart) (method_chart) }
        h3 { "按支付方式" }
        (table("tbl-methods", "methods", &q, &dashboard_table(d, "methods").unwrap_or_default(), &[], 2))
        h3 { "月度趋势" }
        (table("tbl-trend", "trend", &q, &dashboard_table(d, "trend").unwrap_or_default(), &[], 1))
        h3 { (d.level.label_zh()) "指标" }
        (table(unit_id, unit_export, &q, &unit_rows(&d.units), &unit_links(&d.units, d, d.level, ctx), 3))
        @if d.level == Level::Region {
            h3 { "各医院等级" }
            (table("tbl-tiers", "tiers", &q, &unit_rows(&d.tiers), &unit_links(&d.tiers, d, Level::Tier, ctx), 3))
        }
        @if d.level != Level::Hospital {
            h3 { "各医疗机构" }
            (table("tbl-hospitals", "hospitals", &q, &unit_rows(&d.hospitals), &unit_links(&d.hospitals, d, Level::Hospital, ctx), 3))
        }

        h2 #block-groups { "二、分组分析" }
        (cards(&[
            ("kpi-grouped", "已入组", t.grouped.to_string()),
            ("kpi-ambiguous", "歧义病案(QY)", t.ambiguous.to_string()),
            ("kpi-ungrouped", "无法入组", t.ungrouped.to_string()),
            ("kpi-grouping-rate", "入组率", t.grouping_rate().percent_text(2)),
        ]))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (grouping_chart) }
        h3 { "高权重病组（前 " (d.config.top_groups) " 位）" }
        (table("tbl-top-groups", "top-groups", &q, &dashboard_table(d, "top-groups").unwrap_or_default(), &[], 2))
        h3 { "病例数异常变化病组" }
        p.muted { "与上一等长期间（" (d.previous) "）相比，变化幅度 ≥ " (Ratio::new(d.config.volume_change_permille, 1000).percent_text(0)) "，且任一期间病例数 ≥ " (d.config.volume_min_cases) "。" }
        (table("tbl-volume-changes", "volume-changes", &q, &dashboard_table(d, "volume-changes").unwrap_or_default(), &[], 2))
        h3 { "费用离散度大的病组" }
        p.muted { "组内次均费用变异系数 CV > " (format!("{:.2}", d.config.cv_threshold)) "，且病例数 ≥ " (d.config.cv_min_cases) "。" }
        (table("tbl-dispersed", "dispersed", &q, &dashboard_table(d, "dispersed").unwrap_or_default(), &[], 2))

        h2 #block-performance { "三、绩效指标" }
        (cards(&pick(&["kpi-cmi", "kpi-weight", "kpi-drg-count", "kpi-time-index", "kpi-cost-index", "kpi-lowrisk-mortality"])))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (cmi_chart) (scatter) (cost_dist) }
        p.muted { "时间/费用消耗指数 = Σ(本单位各病组例均住院日/费用 ÷ 全统筹区同病组例均值 × 本单位该组病例数) ÷ 本单位入组病例数；1 为统筹区平均水平。" }

        h2 #block-burden { "四、个人负担" }
        (cards(&pick(&["kpi-personal-burden", "kpi-selfpay-share"])))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (burden_chart) }
        p.muted { "个人负担率 = 个人负担 ÷ 医疗总费用；全自费占比 = 全自费金额 ÷ 医疗总费用。" }
    }
}

/// The query string of a hospital view (without `?`), optionally on another page.
fn hospital_query(h: &HospitalView, page: u32) -> String {
    let q = &h.query;
    // the hospital travels with the query so the Excel exports of a bureau user's hospital view
    // (/export/<table>.xlsx) address the same hospital as the page
    let mut s = format!("hospital={}&from={}&to={}", enc(&h.hospital_code), q.range.from, q.range.to);
    if let Some(d) = &q.department {
        s.push_str(&format!("&dept={}", enc(d)));
    }
    if let Some(g) = &q.drg {
        s.push_str(&format!("&drg={}", enc(g)));
    }
    if q.flagged_only {
        s.push_str("&flagged=1");
    }
    s.push_str(&format!(
        "&sort={}&desc={}&page={}",
        q.sort.code(),
        if q.descending { 1 } else { 0 },
        page
    ));
    s
}

/// The rows of a hospital-view table by its export name (None for an unknown name).
pub fn hospital_table(h: &HospitalView, name: &str) -> Option<TextTable> {
    let (me, tier) = (&h.indicators, &h.tier_average);
    Some(match name {
        "hospital-compare" => {
            let per_hospital = |n: i64| Ratio::new(n, h.tier_hospitals).text(1);
            let row = |k: &str, a: String, b: String| vec![k.to_string(), a, b];
            (
                s(&[
                    "指标",
                    "本院",
                    &format!("同级({}，{} 家)", h.tier, h.tier_hospitals),
                ]),
                vec![
                    row(
                        "出院人次（同级为院均）",
                        me.cases.to_string(),
                        per_hospital(tier.cases),
                    ),
                    row("CMI", me.cmi().text(4), tier.cmi().text(4)),
                    row(
                        "DRG 组数",
                        me.drg_count.to_string(),
                        format!("{}（合计）", tier.drg_count),
                    ),
                    row(
                        "入组率",
                        me.grouping_rate().percent_text(2),
                        tier.grouping_rate().percent_text(2),
                    ),
                    row(
                        "次均费用(元)",
                        me.cost_per_case().yuan_text(),
                        tier.cost_per_case().yuan_text(),
                    ),
                    row("平均住院日", me.mean_los().text(2), tier.mean_los().text(2)),
                    row(
                        "时间消耗指数",
                        opt_dec(me.time_index),
                        opt_dec(tier.time_index),
                    ),
                    row(
                        "费用消耗指数",
                        opt_dec(me.cost_index),
                        opt_dec(tier.cost_index),
                    ),
                    row(
                        "低风险组死亡率",
                        me.low_risk_mortality().percent_text(2),
                        tier.low_risk_mortality().percent_text(2),
                    ),
                    row(
                        "个人负担率",
                        me.personal_burden_rate().percent_text(2),
                        tier.personal_burden_rate().percent_text(2),
                    ),
                    row(
                        "全自费占比",
                        me.selfpay_share().percent_text(2),
                        tier.selfpay_share().percent_text(2),
                    ),
                    row(
                        "病组支付 ÷ 医疗总费用",
                        me.payment_cost_ratio().percent_text(2),
                        tier.payment_cost_ratio().percent_text(2),
                    ),
                ],
            )
        }
        "hospital-departments" => (
            s(&[
                "出院科别",
                "出院人次",
                "入组率",
                "CMI",
                "次均费用(元)",
                "平均住院日",
                "费用消耗指数",
                "医疗总费用(元)",
                "病组支付(元)",
                "盈亏(元)",
                "疑点病例",
            ]),
            h.departments
                .iter()
                .map(|u| {
                    let i = &u.ind;
                    vec![
                        if u.key.is_empty() {
                            "（未填）".to_string()
                        } else {
                            dept_label_zh(&u.key)
                        },
                        i.cases.to_string(),
                        i.grouping_rate().percent_text(2),
                        i.cmi().text(4),
                        i.cost_per_case().yuan_text(),
                        i.mean_los().text(2),
                        opt_dec(i.cost_index),
                        yuan(i.total_cost_fen),
                        yuan(i.payment_fen),
                        yuan(i.profit_fen()),
                        i.flagged_cases.to_string(),
                    ]
                })
                .collect(),
        ),
        "hospital-cases" => (
            s(&[
                "结算清单号",
                "出院日期",
                "出院科别",
                "入组状态",
                "病组",
                "病组名称",
                "权重",
                "点数",
                "支付方式",
                "偏差类型",
                "住院天数",
                "医疗总费用(元)",
                "病组支付(元)",
                "盈亏(元)",
                "审核标记",
                "疑点金额(元)",
            ]),
            h.cases
                .rows
                .iter()
                .map(|c| {
                    vec![
                        c.list_id.clone(),
                        c.discharge_date.clone(),
                        dept_label_zh(&c.department),
                        status_zh(&c.group_status).to_string(),
                        c.drg.clone(),
                        c.drg_name.clone(),
                        units_text(c.weight_units),
                        units_text(c.points_units),
                        method_zh(&c.method),
                        outlier_zh(&c.outlier),
                        c.los_days.to_string(),
                        yuan(c.total_cost_fen),
                        yuan(c.payment_fen),
                        yuan(c.payment_fen - c.total_cost_fen),
                        rules_zh(&c.flag_rules),
                        yuan(c.flag_amount_fen),
                    ]
                })
                .collect(),
        ),
        _ => return None,
    })
}

/// The hospital view body.
pub fn hospital_body(h: &HospitalView, _ctx: &MonitorCtx) -> Markup {
    let q = &h.query;
    let query = hospital_query(h, q.page);
    let base = format!("/hospitals/{}", enc(&h.hospital_code));
    let me = &h.indicators;
    let compare = charts::grouped_bar(
        "chart-compare",
        "本院与同级对比",
        "指数",
        &s(&["CMI", "时间消耗指数", "费用消耗指数"]),
        &[
            Series {
                name: "本院".into(),
                values: vec![f(me.cmi()), dec_f(me.time_index), dec_f(me.cost_index)],
                texts: vec![
                    me.cmi().text(4),
                    opt_dec(me.time_index),
                    opt_dec(me.cost_index),
                ],
            },
            Series {
                name: format!("同级（{}）", h.tier),
                values: vec![
                    f(h.tier_average.cmi()),
                    dec_f(h.tier_average.time_index),
                    dec_f(h.tier_average.cost_index),
                ],
                texts: vec![
                    h.tier_average.cmi().text(4),
                    opt_dec(h.tier_average.time_index),
                    opt_dec(h.tier_average.cost_index),
                ],
            },
        ],
    );
    let wan = |fen: i64| fen as f64 / 1_000_000.0;
    let deps = &h.departments;
    let dep_chart = charts::grouped_bar(
        "chart-departments",
        "各科室医疗总费用与病组支付",
        "万元",
        &deps.iter().map(|u| dept_label_zh(&u.key)).collect::<Vec<_>>(),
        &[
            Series {
                name: "医疗总费用".into(),
                values: deps.iter().map(|u| wan(u.ind.total_cost_fen)).collect(),
                texts: deps
                    .iter()
                    .map(|u| format!("{} 元", yuan(u.ind.total_cost_fen)))
                    .collect(),
            },
            Series {
                name: "病组支付".into(),
                values: deps.iter().map(|u| wan(u.ind.payment_fen)).collect(),
                texts: deps
                    .iter()
                    .map(|u| format!("{} 元", yuan(u.ind.payment_fen)))
                    .collect(),
            },
        ],
    );
    let case_links: Vec<Option<String>> = h
        .cases
        .rows
        .iter()
        .map(|c| Some(super::pages::case_href(&h.hospital_code, &c.list_id)))
        .collect();
    let dep_links: Vec<Option<String>> = deps
        .iter()
        .map(|u| {
            let mut hq = h.clone();
            hq.query.department = Some(u.key.clone());
            (!u.key.is_empty()).then(|| format!("{base}?{}", hospital_query(&hq, 1)))
        })
        .collect();
    let pages = h.cases.pages();
    html! {
        p #hospital-info {
            strong { (h.hospital_name) } " · 编号 " (h.hospital_code) " · 等级 " (h.tier) " · 统筹区 " (h.region) " · 期间 " (q.range)
        }
        form.box #form-hospital method="get" action=(base) {
            label { "起始月份 " input type="month" name="from" value=(q.range.from.to_string()) required; }
            label { "截止月份 " input type="month" name="to" value=(q.range.to.to_string()) required; }
            label { "科室 " select name="dept" {
                option value="" selected[q.department.is_none()] { "全部" }
                @for u in deps { @if !u.key.is_empty() { option value=(u.key) selected[q.department.as_deref() == Some(u.key.as_str())] { (u.key) } } }
            } }
            label { "病组 " input type="text" name="drg" size="8" value=(q.drg.clone().unwrap_or_default()); }
            label { input type="checkbox" name="flagged" value="1" checked[q.flagged_only]; " 仅看有审核标记" }
            label { "排序 " select name="sort" {
                @for c in SortColumn::ALL { option value=(c.code()) selected[c == q.sort] { (c.label_zh()) } }
            } }
            label { select name="desc" { option value="1" selected[q.descending] { "降序" } option value="0" selected[!q.descending] { "升序" } } }
            input type="hidden" name="page" value="1";
            input type="submit" value="查询";
        }
        (cards(&[
            ("kpi-cases", "出院人次", me.cases.to_string()),
            ("kpi-total-cost", "医疗总费用(元)", yuan(me.total_cost_fen)),
            ("kpi-payment", "病组支付(元)", yuan(me.payment_fen)),
            ("kpi-profit", "盈亏(元)", yuan(me.profit_fen())),
            ("kpi-cmi", "CMI", me.cmi().text(4)),
            ("kpi-flagged", "审核疑点病例", me.flagged_cases.to_string()),
            ("kpi-flag-amount", "疑点金额(元)", yuan(me.flag_amount_fen)),
        ]))
        p.muted { "盈亏 = 病组支付 − 医疗总费用。病组支付是病例按点数×点值（及按项目部分）计得的全部支付标准，其中统筹基金支付扣除患者及其他渠道已付部分后的余额；医院对该病例的实际收入即病组支付，故与医疗总费用相比。" }
        h2 { "本院与同级对比" }
        p.muted { "同级为本统筹区同等级全部医疗机构的合计指标（不显示其他机构的名称与明细）。" }
        (table("tbl-compare", "hospital-compare", &query, &hospital_table(h, "hospital-compare").unwrap_or_default(), &[], 1))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (compare) }
        h2 { "科室分析" }
        (table("tbl-departments", "hospital-departments", &query, &hospital_table(h, "hospital-departments").unwrap_or_default(), &dep_links, 1))
        div.charts style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start" { (dep_chart) }
        h2 { "病例清单" }
        p.muted { "共 " (h.cases.total) " 例，第 " (h.cases.page) " / " (pages) " 页；按" (q.sort.label_zh()) (if q.descending { "降序" } else { "升序" }) "。" }
        (table("tbl-cases", "hospital-cases", &query, &hospital_table(h, "hospital-cases").unwrap_or_default(), &case_links, 6))
        nav #pager {
            @if q.page > 1 { a #page-prev href={(base) "?" (hospital_query(h, q.page - 1))} { "上一页" } " " }
            @if q.page < pages { a #page-next href={(base) "?" (hospital_query(h, q.page + 1))} { "下一页" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casemix_lake::{
        CasePage, CaseRow, DashboardConfig, GroupAnalysis, GroupRow, HospitalQuery, MethodRow,
        MonthRow, Period, Range, VolumeChange,
    };

    const EVIL: &str = "<script>alert('x')</script>";

    fn ind(cases: i64) -> Indicators {
        Indicators {
            cases,
            grouped: cases - 1,
            ambiguous: 1,
            total_cost_fen: cases * 1_000_000,
            personal_pay_fen: cases * 300_000,
            selfpay_fen: cases * 50_000,
            fund_pay_fen: cases * 600_000,
            payment_fen: cases * 950_000,
            los_days: cases * 9,
            weight_units: (cases - 1) * 12_000,
            drg_count: 2,
            low_risk_cases: 2,
            low_risk_deaths: 1,
            flagged_cases: 1,
            flag_amount_fen: 12_345,
            time_index: Some(casemix_lake::Decimal::new(10_530, 4)),
            cost_index: Some(casemix_lake::Decimal::new(9_870, 4)),
            ..Indicators::default()
        }
    }

    fn unit(key: &str, label: &str, tier: &str, cases: i64) -> UnitRow {
        UnitRow {
            key: key.into(),
            label: label.into(),
            tier: tier.into(),
            region: "320200".into(),
            ind: ind(cases),
        }
    }

    fn dashboard(level: Level) -> Dashboard {
        let range = Range::parse("2024-01", "2024-02").unwrap();
        let hospitals = vec![unit("H1", EVIL, "三级", 10), unit("H2", "乙医院", EVIL, 5)];
        let tiers = vec![unit("三级", "三级", "三级", 10), unit(EVIL, EVIL, EVIL, 5)];
        let units = match level {
            Level::Region => vec![unit("320200", "320200", "", 15)],
            Level::Tier => tiers.clone(),
            Level::Hospital => hospitals.clone(),
        };
        let g = GroupRow {
            drg: "GB11".into(),
            drg_name: EVIL.into(),
            weight_units: 20_000,
            cases: 4,
            total_cost_fen: 9_000_000,
            los_days: 45,
            cost_cv: Some(1.25),
        };
        Dashboard {
            level,
            range,
            previous: range.previous(),
            region: Some("320200".into()),
            tier: Some(EVIL.into()),
            scope: None,
            totals: ind(15),
            units,
            tiers,
            hospitals,
            by_method: vec![
                MethodRow {
                    method: "group".into(),
                    cases: 14,
                    payment_fen: 13_000_000,
                    total_cost_fen: 14_000_000,
                },
                MethodRow {
                    method: EVIL.into(),
                    cases: 1,
                    payment_fen: 100,
                    total_cost_fen: 100,
                },
            ],
            trend: range
                .each_month()
                .map(|p: Period| MonthRow {
                    period: p,
                    cases: 7,
                    total_cost_fen: 7_000_000,
                    payment_fen: 6_500_000,
                    fund_pay_fen: 4_000_000,
                    personal_pay_fen: 2_000_000,
                    los_days: 60,
                    weight_units: 70_000,
                    grouped: 6,
                })
                .collect(),
            groups: GroupAnalysis {
                top_weight: vec![g.clone()],
                volume_changes: vec![VolumeChange {
                    drg: "GB11".into(),
                    drg_name: EVIL.into(),
                    cases: 4,
                    previous_cases: 1,
                    change: Some(Ratio::new(3, 1)),
                }],
                dispersed: vec![g],
            },
            config: DashboardConfig::default(),
        }
    }

    #[test]
    fn monitor_body_ids_links_escaping() {
        for level in [Level::Region, Level::Tier, Level::Hospital] {
            let d = dashboard(level);
            let html = monitor_body(
                &d,
                &MonitorCtx {
                    tiers: vec!["二级".into()],
                    drill: true,
                },
            )
            .into_string();
            assert!(!html.contains("<script>"), "{level:?}: unescaped");
            assert!(html.contains("&lt;script&gt;"));
            for id in [
                "form-monitor",
                "level-switch",
                "kpi-cmi",
                "kpi-cases",
                "kpi-grouping-rate",
                "kpi-cost-index",
                "kpi-time-index",
                "kpi-lowrisk-mortality",
                "kpi-personal-burden",
                "kpi-selfpay-share",
                "chart-trend",
                "chart-cases",
                "chart-method",
                "chart-grouping",
                "chart-cmi",
                "chart-scatter",
                "chart-cost-dist",
                "chart-burden",
                "tbl-hospitals",
                "tbl-methods",
                "tbl-trend",
                "tbl-top-groups",
                "tbl-volume-changes",
                "tbl-dispersed",
            ] {
                assert!(
                    html.contains(&format!(r#"id="{id}""#)),
                    "{level:?}: missing {id}"
                );
            }
            // ids are unique
            for id in ["kpi-grouping-rate", "tbl-hospitals", "chart-trend"] {
                assert_eq!(
                    html.matches(&format!(r#"id="{id}""#)).count(),
                    1,
                    "{level:?}: {id} twice"
                );
            }
            assert!(html.contains(r#"<table class="sortable" id="tbl-methods">"#));
            // drill to the hospital view with the period; the hostile tier is percent-encoded in links
            assert!(
                html.contains(r#"href="/hospitals/H1?from=2024-01&amp;to=2024-02""#),
                "{level:?}"
            );
            assert!(html.contains("tier=%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E"));
            assert!(html.contains(r#"href="/export/methods.xlsx?level="#));
            assert!(html.contains("按病组/病种") && html.contains("费用消耗指数"));
        }
        let d = dashboard(Level::Region);
        let html = monitor_body(&d, &MonitorCtx::default()).into_string();
        assert!(html.contains(r#"id="tbl-units""#) && html.contains(r#"id="tbl-tiers""#));
        // without drill the hospital rows are not links
        assert!(!html.contains("/hospitals/H1"));
        // region rows drill to the tier level, tier rows to the hospital level of that tier
        assert!(html.contains(r#"href="/monitor?level=tier&amp;from=2024-01&amp;to=2024-02""#));
        assert!(html.contains(r#"href="/monitor?level=hospital&amp;tier=%E4%B8%89%E7%BA%A7&amp;from=2024-01&amp;to=2024-02""#));
    }

    #[test]
    fn dashboard_tables_match_the_page() {
        let d = dashboard(Level::Hospital);
        for name in DASHBOARD_TABLES {
            let (h, rows) = dashboard_table(&d, name).unwrap_or_else(|| panic!("{name}"));
            assert!(!h.is_empty(), "{name}");
            for r in &rows {
                assert_eq!(r.len(), h.len(), "{name}");
            }
        }
        assert!(dashboard_table(&d, "nope").is_none());
        let (h, rows) = dashboard_table(&d, "hospitals").unwrap();
        assert_eq!(h[0], "名称");
        // H1: 10 cases, cost 10 × 10,000.00 yuan = 100,000.00, payment 95,000.00 → 盈亏 −5,000.00;
        // CMI = 9 × 1.2 ÷ 9 = 1.2000; 入组率 9/10 = 90.00%
        assert_eq!(rows[0][0], EVIL);
        assert_eq!(rows[0][3], "10");
        assert_eq!(rows[0][4], "90.00%");
        assert_eq!(rows[0][5], "1.2000");
        assert_eq!(rows[0][15], "100,000.00");
        assert_eq!(rows[0][17], "-5,000.00");
        let (_, m) = dashboard_table(&d, "methods").unwrap();
        // group share = 130,000.00 ÷ 130,001.00 = 99.9992…% → 100.00%
        assert_eq!(
            m[0],
            [
                "按病组/病种",
                "group",
                "14",
                "130,000.00",
                "140,000.00",
                "100.00%"
            ]
        );
        let (_, v) = dashboard_table(&d, "volume-changes").unwrap();
        assert_eq!(v[0][4], "300.0%");
    }

    fn view() -> HospitalView {
        let range = Range::parse("2024-01", "2024-02").unwrap();
        let case = CaseRow {
            region: "320200".into(),
            year: 2024,
            month: 1,
            list_id: "L/1?x=<b>".into(),
            hospital_code: "H1".into(),
            hospital_name: EVIL.into(),
            tier: "三级".into(),
            department: EVIL.into(),
            sex: 1,
            age_years: 40,
            admit_date: "2024-01-01".into(),
            discharge_date: "2024-01-09".into(),
            los_days: 8,
            leaving_type: 1,
            death: false,
            group_status: "grouped".into(),
            mdc: "G".into(),
            adrg: "GB1".into(),
            drg: "GB11".into(),
            drg_name: EVIL.into(),
            weight_units: 20_000,
            points_units: 2_000_000,
            method: "group".into(),
            outlier: "high".into(),
            total_cost_fen: 2_000_000,
            selfpay_fen: 0,
            personal_pay_fen: 500_000,
            fund_pay_fen: 1_500_000,
            payment_fen: 2_200_000,
            qc_errors: 0,
            qc_warnings: 0,
            flags: 1,
            flag_rules: "upcoding,unknown_rule".into(),
            flag_amount_fen: 100_000,
            low_risk: false,
        };
        let mut q = HospitalQuery::new("H1", range);
        q.page = 2;
        q.page_size = 1;
        q.department = Some(EVIL.into());
        HospitalView {
            hospital_code: "H1".into(),
            hospital_name: EVIL.into(),
            tier: "三级".into(),
            region: "320200".into(),
            query: q,
            indicators: ind(3),
            tier_average: ind(9),
            tier_hospitals: 3,
            departments: vec![unit(EVIL, EVIL, "", 3)],
            cases: CasePage {
                rows: vec![case],
                total: 3,
                page: 2,
                page_size: 1,
            },
        }
    }

    #[test]
    fn hospital_body_ids_links_escaping() {
        let h = view();
        let html = hospital_body(&h, &MonitorCtx::default()).into_string();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "unescaped"
        );
        for id in [
            "hospital-info",
            "form-hospital",
            "tbl-compare",
            "tbl-departments",
            "tbl-cases",
            "chart-compare",
            "chart-departments",
            "kpi-profit",
            "pager",
            "page-prev",
            "page-next",
        ] {
            assert!(html.contains(&format!(r#"id="{id}""#)), "missing {id}");
        }
        // the case links to its detail page, its id percent-encoded
        assert!(
            html.contains(r#"href="/cases/H1/L%2F1%3Fx%3D%3Cb%3E""#),
            "{html}"
        );
        assert!(html.contains(
            r#"href="/export/hospital-cases.xlsx?hospital=H1&amp;from=2024-01&amp;to=2024-02&amp;dept=%3Cscript"#
        ));
        assert!(html.contains("&amp;page=1\"") && html.contains("&amp;page=3\""));
        let (h1, rows) = hospital_table(&h, "hospital-cases").unwrap();
        assert_eq!(h1.len(), rows[0].len());
        // 盈亏 = 22,000.00 − 20,000.00 = 2,000.00; 权重 2.0000; 点数 200.0000; rules in Chinese
        assert_eq!(rows[0][13], "2,000.00");
        assert_eq!(rows[0][6], "2.0000");
        assert_eq!(rows[0][7], "200.0000");
        assert_eq!(rows[0][14], "高套编码、unknown_rule");
        assert_eq!(rows[0][9], "高倍率");
        let (_, cmp) = hospital_table(&h, "hospital-compare").unwrap();
        // 出院人次：本院 3，同级 9 ÷ 3 家 = 3.0
        assert_eq!(cmp[0], ["出院人次（同级为院均）", "3", "3.0"]);
        for name in HOSPITAL_TABLES {
            assert!(hospital_table(&h, name).is_some());
        }
    }

    #[test]
    fn labels_agree_with_the_pricing_and_audit_crates() {
        use casemix_pricing::{Method, Outlier};
        for m in [
            Method::Group,
            Method::PerBedDay,
            Method::DaySurgery,
            Method::FeeForService,
            Method::FfsPoints,
            Method::SpecialCase,
            Method::NotPaid,
        ] {
            assert_eq!(method_zh(m.code()), m.label_zh());
        }
        for o in [
            Outlier::None,
            Outlier::High,
            Outlier::Low,
            Outlier::Incomplete,
        ] {
            assert_eq!(outlier_zh(o.code()), o.label_zh());
        }
        assert_eq!(enc("三级 a&b"), "%E4%B8%89%E7%BA%A7%20a%26b");
    }
}
