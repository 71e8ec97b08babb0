//! The report as one self-contained HTML page: inline SVG charts drawn with `plotters`' SVG
//! backend, inline CSS, no scripts, fonts, images or links to fetch, so it opens offline.
//!
//! Why `plotters` and not hand-written SVG: with `default-features = false` and only
//! `svg_backend` + `line_series` it adds three small crates (plotters, plotters-backend,
//! plotters-svg; num-traits was already built) and about 2 s to a clean debug build, and it
//! gives axes, ticks, label placement and scaling that a hand version would have to re-derive.
//! Chart coordinates are `f64` pixels: amounts are converted only to be drawn, never summed.
//! Each bar is one `<rect>` and each line point one `<circle>` in its series' colour (legends
//! are HTML below the chart), so a test can count them.

use super::compute::Report;
use super::text::percent;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

/// Series colours (Tableau 10), in the order series are drawn.
pub const COLORS: [RGBColor; 4] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
];

/// One series of a chart: its name (for the legend) and a value per category.
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// `#RRGGBB` of series `i`, as the SVG writes it.
pub fn color_hex(i: usize) -> String {
    let c = COLORS[i % COLORS.len()];
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A y tick: whole numbers without decimals.
fn tick(y: &f64) -> String {
    if y.fract() == 0.0 {
        format!("{y:.0}")
    } else {
        format!("{y:.1}")
    }
}

fn y_top(series: &[Series]) -> f64 {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    if max <= 0.0 {
        1.0
    } else {
        max * 1.15
    }
}

/// The label of a category axis at `x`: only at whole positions, so no tick is labelled twice.
fn label_at(labels: &[String], x: f64) -> String {
    let i = x.round();
    ((x - i).abs() < 0.01 && i >= 0.0)
        .then(|| labels.get(i as usize).cloned())
        .flatten()
        .unwrap_or_default()
}

/// A grouped bar chart: a group per label, a bar per series (zero values draw no bar).
pub fn bar_chart(labels: &[String], series: &[Series]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..y_top(series))
            .map_err(|e| e.to_string())?;
        let label_at = |x: &f64| label_at(labels, *x);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&label_at)
            .y_labels(6)
            .y_label_formatter(&tick)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        let width = 0.8 / series.len().max(1) as f64;
        for (si, s) in series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            let bars = s.values.iter().enumerate().filter(|(_, v)| **v > 0.0);
            chart
                .draw_series(bars.map(|(i, v)| {
                    let x0 = i as f64 - 0.4 + si as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.9, *v)], color.filled())
                }))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A line chart: a line and a point per label for each series.
pub fn line_chart(labels: &[String], series: &[Series]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..y_top(series))
            .map_err(|e| e.to_string())?;
        let label_at = |x: &f64| label_at(labels, *x);
        chart
            .configure_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&label_at)
            .y_labels(6)
            .y_label_formatter(&tick)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for (si, s) in series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            let points: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, *v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A chart in its figure, with a title and an HTML legend; a note instead when it is empty.
fn figure(id: &str, title: &str, chart: Result<String, String>, series: &[Series]) -> String {
    let legend: String = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<span class=\"key\"><i style=\"background:{}\"></i>{}</span>",
                color_hex(i),
                escape(&s.name)
            )
        })
        .collect();
    let body = match chart {
        Ok(svg) => svg,
        Err(e) => {
            tracing::warn!(chart = id, error = %e, "chart could not be drawn");
            "<p class=\"empty\">This chart could not be drawn.</p>".into()
        }
    };
    format!(
        "<figure id=\"chart-{id}\" data-chart=\"{id}\"><h3>{}</h3>{body}<figcaption>{legend}</figcaption></figure>\n",
        escape(title)
    )
}

fn empty(title: &str) -> String {
    format!(
        "<figure><h3>{}</h3><p class=\"empty\">Nothing in this period.</p></figure>\n",
        escape(title)
    )
}

fn num(d: rust_decimal::Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn series(name: &str, values: Vec<f64>) -> Series {
    Series {
        name: name.into(),
        values,
    }
}

/// A bar chart figure over categories, or the empty note when there are none.
fn bars(id: &str, title: &str, labels: Vec<String>, s: Vec<Series>) -> String {
    if labels.is_empty() {
        return empty(title);
    }
    figure(id, title, bar_chart(&labels, &s), &s)
}

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut page = String::new();
    let title = format!("repaybot report {} .. {}", r.from, r.to);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{}</style></head><body>\n<h1>{}</h1><p class=\"tz\">Days in {}.</p>\n",
        escape(&title),
        STYLE,
        escape(&title),
        escape(&r.timezone)
    );
    page.push_str(&tiles(r));
    page.push_str(&conversation_chart(r));
    page.push_str(&ticket_chart(r));
    page.push_str(&unknown_table(r));
    page.push_str(&payment_charts(r));
    page.push_str(&reminder_chart(r));
    page.push_str(&negotiation_chart(r));
    page.push_str("</body></html>\n");
    page
}

fn tiles(r: &Report) -> String {
    let tiles = [
        ("Conversations", r.conversations.total.to_string()),
        ("Containment", percent(r.conversations.containment_rate)),
        (
            "Not understood",
            percent(r.understanding.not_understood_rate),
        ),
        ("Tickets", r.tickets.opened.to_string()),
        (
            "Median first reply",
            r.tickets
                .median_first_reply_seconds
                .map_or("-".into(), |s| format!("{s} s")),
        ),
        (
            "Payments",
            format!("{} / {} CNY", r.payments.count, r.payments.amount),
        ),
        ("Paid by due date", percent(r.reminders.paid_by_due_share)),
    ];
    let mut out = String::from("<div class=\"tiles\">");
    for (k, v) in tiles {
        let _ = write!(
            out,
            "<div class=\"tile\"><b>{}</b><span>{}</span></div>",
            escape(&v),
            k
        );
    }
    out.push_str("</div>\n");
    out
}

fn conversation_chart(r: &Report) -> String {
    let days = &r.conversations.per_day;
    let labels = days
        .iter()
        .map(|d| d.day.format("%m-%d").to_string())
        .collect();
    let s = vec![
        series(
            "conversations",
            days.iter().map(|d| d.conversations as f64).collect(),
        ),
        series(
            "without a person",
            days.iter().map(|d| d.contained as f64).collect(),
        ),
    ];
    bars("conversations", "Conversations per day", labels, s)
}

fn ticket_chart(r: &Report) -> String {
    let t = &r.tickets.by_reason;
    let labels = t.iter().map(|x| x.reason.clone()).collect();
    let s = vec![
        series("opened", t.iter().map(|x| x.opened as f64).collect()),
        series("answered", t.iter().map(|x| x.answered as f64).collect()),
    ];
    bars("tickets", "Tickets by reason", labels, s)
}

fn unknown_table(r: &Report) -> String {
    let mut out = String::from("<h3>Most frequent messages not understood (digits masked)</h3><table><tr><th>count</th><th>message</th></tr>");
    for t in &r.understanding.top_not_understood {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            t.count,
            escape(&t.text)
        );
    }
    out.push_str("</table>\n");
    out
}

fn payment_charts(r: &Report) -> String {
    let p = &r.payments;
    if p.per_day.is_empty() {
        return empty("Payments through the bot per day");
    }
    let days: Vec<chrono::NaiveDate> = r.conversations.per_day.iter().map(|d| d.day).collect();
    let labels: Vec<String> = days.iter().map(|d| d.format("%m-%d").to_string()).collect();
    let (mut counts, mut amounts) = (Vec::new(), Vec::new());
    for g in &p.by_gateway {
        let on = |day: &chrono::NaiveDate| {
            p.per_day
                .iter()
                .find(|x| x.day == *day && x.gateway == g.gateway)
        };
        counts.push(series(
            &g.gateway,
            days.iter()
                .map(|d| on(d).map_or(0.0, |x| x.count as f64))
                .collect(),
        ));
        amounts.push(series(
            &format!("{} (CNY)", g.gateway),
            days.iter()
                .map(|d| on(d).map_or(0.0, |x| num(x.amount)))
                .collect(),
        ));
    }
    let mut out = figure(
        "payment-count",
        "Payments through the bot per day (count)",
        bar_chart(&labels, &counts),
        &counts,
    );
    out.push_str(&figure(
        "payment-amount",
        "Payments through the bot per day (amount, CNY)",
        line_chart(&labels, &amounts),
        &amounts,
    ));
    out
}

fn reminder_chart(r: &Report) -> String {
    let m = &r.reminders;
    let labels = m.sent_by_kind.keys().cloned().collect();
    let s = vec![series(
        "sent",
        m.sent_by_kind.values().map(|n| *n as f64).collect(),
    )];
    let mut out = bars("reminders", "Reminders sent by kind", labels, s);
    let _ = writeln!(
        out,
        "<p>Reminded installments: {}; due already: {}; paid by their due date: {} ({}). Failed sends: {}.</p>",
        m.reminded_installments, m.due_passed, m.paid_by_due, percent(m.paid_by_due_share), m.failed
    );
    out
}

fn negotiation_chart(r: &Report) -> String {
    let labels = r
        .negotiation
        .iter()
        .map(|n| format!("{:?} {:?}", n.kind, n.outcome).to_lowercase())
        .collect();
    let s = vec![series(
        "cases",
        r.negotiation.iter().map(|n| n.count as f64).collect(),
    )];
    bars("negotiation", "Negotiation outcomes", labels, s)
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:800px}\
h3{margin:1.5em 0 .3em}figure{margin:0}svg{max-width:100%;height:auto}\
.tiles{display:flex;flex-wrap:wrap;gap:.6em}.tile{border:1px solid #ccc;border-radius:6px;padding:.5em .8em}\
.tile b{display:block;font-size:1.4em}.tile span{color:#666;font-size:.85em}\
.key{margin-right:1.2em}.key i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}\
.empty,.tz{color:#777}";
