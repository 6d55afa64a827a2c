//! Server-rendered SVG charts (no script, no external asset): bar, grouped bar, line, scatter and
//! histogram. Pure functions from already-formatted data to maud `Markup`; every chart is an
//! `<svg>` with a stable `id`, a Chinese title, labelled axes and a `<title>` tooltip on every mark.
//!
//! Chart geometry is f64 (pixels); the numbers a chart is given are display values derived from
//! integer sums, and the tooltip of each mark carries the exact text the caller formatted.

use maud::{html, Markup};

/// Chart canvas (the SVG scales to its container through `viewBox`).
const W: f64 = 680.0;
const H: f64 = 300.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 64.0;

/// Series colours (colour-blind-safe Okabe–Ito order).
const COLORS: [&str; 8] = [
    "#0b5394", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
];

pub fn color(i: usize) -> &'static str {
    COLORS[i % COLORS.len()]
}

/// One value with its exact display text (the tooltip).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// A named series over shared categories (`values[i]` belongs to `categories[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub texts: Vec<String>,
}

/// One point of a scatter chart; `href` makes the mark a link (drill-down).
#[derive(Debug, Clone, PartialEq)]
pub struct XY {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub href: Option<String>,
}

/// Compact axis number: 1.2亿, 3.5万, 12.5, 0.25.
pub fn axis_num(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e8 {
        format!("{}亿", trim(format!("{:.2}", v / 1e8)))
    } else if a >= 1e4 {
        format!("{}万", trim(format!("{:.2}", v / 1e4)))
    } else {
        trim(format!("{v:.2}"))
    }
}

/// "Nice" axis ticks covering [lo, hi]: steps of 1, 2 or 5 × 10ⁿ, about five of them.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| raw <= *s)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut v = Vec::new();
    let mut t = start;
    while t <= hi + step * 1e-9 && v.len() < 50 {
        v.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    if v.last().is_some_and(|l| *l < hi) {
        v.push(t);
    }
    v
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// The frame shared by the category charts: title, y axis with grid, y label, x labels.
fn frame(
    id: &str,
    title: &str,
    y_label: &str,
    categories: &[String],
    y_ticks: &[f64],
    ymap: &dyn Fn(f64) -> f64,
    body: Markup,
    legend: &[(String, &'static str)],
) -> Markup {
    let n = categories.len().max(1) as f64;
    let band = (W - LEFT - RIGHT) / n;
    let rotate = categories.len() > 6;
    let step = if categories.len() > 24 {
        categories.len().div_ceil(24)
    } else {
        1
    };
    html! {
        svg id=(id) class="chart" xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(title) style="width:100%;max-width:680px;background:#fff;border:1px solid #d9dee5;border-radius:6px" {
            title { (title) }
            text x=(W / 2.0) y="20" text-anchor="middle" font-size="15" font-weight="700" fill="#1f2937" { (title) }
            @for t in y_ticks {
                line x1=(LEFT) x2=(W - RIGHT) y1=(ymap(*t)) y2=(ymap(*t)) stroke="#eef2f7" {}
                text x=(LEFT - 6.0) y=(ymap(*t) + 4.0) text-anchor="end" font-size="11" fill="#6b7280" { (axis_num(*t)) }
            }
            line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) stroke="#9ca3af" {}
            line x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) stroke="#9ca3af" {}
            text x="14" y=((TOP + H - BOTTOM) / 2.0) text-anchor="middle" font-size="12" fill="#374151" transform={"rotate(-90 14 " ((TOP + H - BOTTOM) / 2.0) ")"} { (y_label) }
            @for (i, c) in categories.iter().enumerate() {
                @if i % step == 0 {
                    @let x = LEFT + band * (i as f64 + 0.5);
                    @let y = H - BOTTOM + 14.0;
                    @if rotate {
                        text x=(x) y=(y) text-anchor="end" font-size="11" fill="#374151" transform={"rotate(-35 " (x) " " (y) ")"} { (c) }
                    } @else {
                        text x=(x) y=(y) text-anchor="middle" font-size="11" fill="#374151" { (c) }
                    }
                }
            }
            (body)
            @for (i, (name, col)) in legend.iter().enumerate() {
                rect x=(LEFT + 8.0 + 130.0 * i as f64) y="28" width="10" height="10" fill=(col) {}
                text x=(LEFT + 22.0 + 130.0 * i as f64) y="37" font-size="11" fill="#374151" { (name) }
            }
        }
    }
}

fn y_scale(lo: f64, hi: f64) -> (Vec<f64>, impl Fn(f64) -> f64) {
    let t = ticks(lo, hi);
    let (a, b) = (*t.first().unwrap_or(&0.0), *t.last().unwrap_or(&1.0));
    let span = if b > a { b - a } else { 1.0 };
    (t, move |v: f64| {
        H - BOTTOM - (finite(v) - a) / span * (H - BOTTOM - TOP - 14.0)
    })
}

/// A bar chart (one series).
pub fn bar(id: &str, title: &str, y_label: &str, points: &[Point]) -> Markup {
    let cats: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let s = Series {
        name: String::new(),
        values: points.iter().map(|p| p.value).collect(),
        texts: points.iter().map(|p| p.text.clone()).collect(),
    };
    bars(id, title, y_label, &cats, std::slice::from_ref(&s), false)
}

/// Bars of several series side by side per category.
pub fn grouped_bar(
    id: &str,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Series],
) -> Markup {
    bars(id, title, y_label, categories, series, true)
}

fn bars(
    id: &str,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Series],
    legend: bool,
) -> Markup {
    let all = series
        .iter()
        .flat_map(|s| s.values.iter().copied().map(finite));
    let lo = all.clone().fold(0.0f64, f64::min);
    let hi = all.fold(0.0f64, f64::max);
    let (t, ymap) = y_scale(lo, hi);
    let n = categories.len().max(1) as f64;
    let band = (W - LEFT - RIGHT) / n;
    let k = series.len().max(1) as f64;
    let bw = (band * 0.8 / k).max(1.0);
    let zero = ymap(0.0);
    let body = html! {
        @for (si, s) in series.iter().enumerate() {
            @for (i, v) in s.values.iter().enumerate() {
                @let y = ymap(*v);
                @let x = LEFT + band * i as f64 + band * 0.1 + bw * si as f64;
                rect x=(x) y=(y.min(zero)) width=(bw) height=((zero - y).abs().max(0.5)) fill=(color(si)) {
                    title { (categories.get(i).map(String::as_str).unwrap_or("")) @if !s.name.is_empty() { " · " (s.name) } "：" (s.texts.get(i).map(String::as_str).unwrap_or("")) }
                }
            }
        }
    };
    let leg: Vec<(String, &'static str)> = if legend {
        series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), color(i)))
            .collect()
    } else {
        Vec::new()
    };
    frame(id, title, y_label, categories, &t, &ymap, body, &leg)
}

/// A line chart of one or more series over ordered categories (e.g. months).
pub fn line(
    id: &str,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Series],
) -> Markup {
    let all = series
        .iter()
        .flat_map(|s| s.values.iter().copied().map(finite));
    let lo = all.clone().fold(0.0f64, f64::min);
    let hi = all.fold(0.0f64, f64::max);
    let (t, ymap) = y_scale(lo, hi);
    let n = categories.len().max(1) as f64;
    let band = (W - LEFT - RIGHT) / n;
    let body = html! {
        @for (si, s) in series.iter().enumerate() {
            @let pts: Vec<String> = s.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", LEFT + band * (i as f64 + 0.5), ymap(*v))).collect();
            polyline points=(pts.join(" ")) fill="none" stroke=(color(si)) stroke-width="2" {}
            @for (i, v) in s.values.iter().enumerate() {
                circle cx=(LEFT + band * (i as f64 + 0.5)) cy=(ymap(*v)) r="3.5" fill=(color(si)) {
                    title { (categories.get(i).map(String::as_str).unwrap_or("")) " · " (s.name) "：" (s.texts.get(i).map(String::as_str).unwrap_or("")) }
                }
            }
        }
    };
    let leg: Vec<(String, &'static str)> = series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), color(i)))
        .collect();
    frame(id, title, y_label, categories, &t, &ymap, body, &leg)
}

/// A scatter chart with optional reference lines (e.g. x = 1 and y = 1 for consumption indexes).
#[allow(clippy::too_many_arguments)]
pub fn scatter(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[XY],
    x_ref: Option<f64>,
    y_ref: Option<f64>,
) -> Markup {
    let xs = points.iter().map(|p| finite(p.x)).chain(x_ref);
    let ys = points.iter().map(|p| finite(p.y)).chain(y_ref);
    let (xlo, xhi) = (
        xs.clone().fold(f64::INFINITY, f64::min),
        xs.fold(f64::NEG_INFINITY, f64::max),
    );
    let (ylo, yhi) = (
        ys.clone().fold(f64::INFINITY, f64::min),
        ys.fold(f64::NEG_INFINITY, f64::max),
    );
    let (xlo, xhi) = if xlo.is_finite() {
        (xlo, xhi)
    } else {
        (0.0, 1.0)
    };
    let (ylo, yhi) = if ylo.is_finite() {
        (ylo, yhi)
    } else {
        (0.0, 1.0)
    };
    let pad = |lo: f64, hi: f64| {
        let p = ((hi - lo) * 0.08).max(1e-6);
        (lo - p, hi + p)
    };
    let (xlo, xhi) = pad(xlo, xhi);
    let (ylo, yhi) = pad(ylo, yhi);
    let xt = ticks(xlo, xhi);
    let yt = ticks(ylo, yhi);
    let (xa, xb) = (xt[0], *xt.last().unwrap_or(&1.0));
    let (ya, yb) = (yt[0], *yt.last().unwrap_or(&1.0));
    let xmap = |v: f64| LEFT + (finite(v) - xa) / (xb - xa).max(1e-12) * (W - LEFT - RIGHT);
    let ymap = |v: f64| H - BOTTOM - (finite(v) - ya) / (yb - ya).max(1e-12) * (H - BOTTOM - TOP);
    html! {
        svg id=(id) class="chart" xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(title) style="width:100%;max-width:680px;background:#fff;border:1px solid #d9dee5;border-radius:6px" {
            title { (title) }
            text x=(W / 2.0) y="20" text-anchor="middle" font-size="15" font-weight="700" fill="#1f2937" { (title) }
            @for t in &yt {
                line x1=(LEFT) x2=(W - RIGHT) y1=(ymap(*t)) y2=(ymap(*t)) stroke="#eef2f7" {}
                text x=(LEFT - 6.0) y=(ymap(*t) + 4.0) text-anchor="end" font-size="11" fill="#6b7280" { (axis_num(*t)) }
            }
            @for t in &xt {
                text x=(xmap(*t)) y=(H - BOTTOM + 16.0) text-anchor="middle" font-size="11" fill="#6b7280" { (axis_num(*t)) }
            }
            line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) stroke="#9ca3af" {}
            line x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) stroke="#9ca3af" {}
            @if let Some(x) = x_ref {
                line x1=(xmap(x)) x2=(xmap(x)) y1=(TOP) y2=(H - BOTTOM) stroke="#9ca3af" stroke-dasharray="4 3" {}
            }
            @if let Some(y) = y_ref {
                line x1=(LEFT) x2=(W - RIGHT) y1=(ymap(y)) y2=(ymap(y)) stroke="#9ca3af" stroke-dasharray="4 3" {}
            }
            text x=((LEFT + W - RIGHT) / 2.0) y=(H - BOTTOM + 38.0) text-anchor="middle" font-size="12" fill="#374151" { (x_label) }
            text x="14" y=((TOP + H - BOTTOM) / 2.0) text-anchor="middle" font-size="12" fill="#374151" transform={"rotate(-90 14 " ((TOP + H - BOTTOM) / 2.0) ")"} { (y_label) }
            @for p in points {
                @if let Some(h) = &p.href {
                    a href=(h) {
                        circle cx=(xmap(p.x)) cy=(ymap(p.y)) r="5" fill=(color(0)) fill-opacity="0.75" { title { (p.label) "：" (p.text) } }
                    }
                } @else {
                    circle cx=(xmap(p.x)) cy=(ymap(p.y)) r="5" fill=(color(0)) fill-opacity="0.75" { title { (p.label) "：" (p.text) } }
                }
            }
        }
    }
}

/// A histogram of `values` in `bins` equal-width bins (the distribution of, e.g., cost per case).
/// `fmt` formats a bin edge for the labels.
pub fn histogram(
    id: &str,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
    fmt: &dyn Fn(f64) -> String,
) -> Markup {
    let bins = bins.clamp(1, 50);
    let vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in &vals {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let points: Vec<Point> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (a, b) = (lo + width * i as f64, lo + width * (i + 1) as f64);
            Point {
                label: fmt(a),
                value: *c as f64,
                text: format!("{}–{}：{} 例", fmt(a), fmt(b), c),
            }
        })
        .collect();
    let cats: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let s = Series {
        name: String::new(),
        values: points.iter().map(|p| p.value).collect(),
        texts: points.iter().map(|p| p.text.clone()).collect(),
    };
    let chart = bars(id, title, "病例数", &cats, std::slice::from_ref(&s), false);
    html! { (chart) div.muted style="font-size:12px" { "横轴：" (x_label) "（每组下限）" } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        assert_eq!(ticks(0.0, 95.0), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(
            ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(axis_num(125_000.0), "12.5万");
        assert_eq!(axis_num(300_000_000.0), "3亿");
        assert_eq!(axis_num(0.25), "0.25");
    }

    #[test]
    fn charts_escape_and_carry_ids() {
        let evil = "<script>alert(1)</script>".to_string();
        let p = vec![
            Point {
                label: evil.clone(),
                value: 3.0,
                text: "3 例".into(),
            },
            Point {
                label: "乙".into(),
                value: 5.0,
                text: "5 例".into(),
            },
        ];
        let s = bar("chart-x", "病例数 <b>", "例", &p).into_string();
        assert!(s.contains(r#"id="chart-x""#));
        assert!(!s.contains("<script>") && s.contains("&lt;script&gt;"));
        assert!(s.contains("病例数 &lt;b&gt;"));
        assert!(s.contains("<title>"));
        // every SVG element is closed explicitly (an HTML parser would nest unclosed <rect>s)
        assert!(!s.contains("/>") && s.matches("<rect").count() == s.matches("</rect>").count());
        let series = vec![Series {
            name: evil.clone(),
            values: vec![1.0, 2.0],
            texts: vec!["1".into(), "2".into()],
        }];
        let cats = vec!["2024-01".to_string(), "2024-02".to_string()];
        for m in [
            line("chart-l", "趋势", "元", &cats, &series),
            grouped_bar("chart-g", "分组", "元", &cats, &series),
        ] {
            let s = m.into_string();
            assert!(!s.contains("<script>"), "{s}");
        }
        let xy = vec![XY {
            label: evil.clone(),
            x: 1.0,
            y: 2.0,
            text: "t".into(),
            href: Some("/hospitals/H1?x=1&y=2".into()),
        }];
        let s = scatter(
            "chart-s",
            "散点",
            "CMI",
            "费用消耗指数",
            &xy,
            Some(1.0),
            Some(1.0),
        )
        .into_string();
        assert!(s.contains(r#"href="/hospitals/H1?x=1&amp;y=2""#) && !s.contains("<script>"));
        let s = histogram("chart-h", "分布", "元", &[1.0, 2.0, 2.5, 9.0], 4, &|v| {
            format!("{v:.0}")
        })
        .into_string();
        assert!(
            s.contains(r#"id="chart-h""#) && s.contains("1–3：3 例"),
            "{s}"
        );
        // empty and degenerate input still renders
        assert!(bar("chart-e", "空", "例", &[])
            .into_string()
            .contains("chart-e"));
        assert!(scatter("chart-e2", "空", "x", "y", &[], None, None)
            .into_string()
            .contains("chart-e2"));
    }
}
