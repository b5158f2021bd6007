// Stacked bar charts of spend or requests per day, drawn as inline SVG from the gateway's own files (nothing from a
// CDN), each with a legend and the table of the numbers it draws. Labels are text nodes: a team or key alias is never
// parsed as markup. Every bar and cell carries its raw number in data-value.
'use strict';

// The SVG namespace is an identifier, not an address: nothing is fetched from it.
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART_COLORS = ['#2454d6', '#e07a1f', '#1f9e6e', '#c11574', '#7a5af8', '#0e9384', '#b54708'];
const OTHER_COLOR = '#98a2b3';
const CHART_SERIES = CHART_COLORS.length;

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** The UTC days from count-1 days ago to today, as YYYY-MM-DD (the activity APIs group by UTC day). */
function utcDays(count) {
  const days = [];
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  for (let i = count - 1; i >= 0; i--) days.push(new Date(today - i * 86400000).toISOString().slice(0, 10));
  return days;
}

/**
 * Series from a daily-activity answer: one per name in results[].breakdown[kind], with its value per day for the
 * metric ('spend' or 'api_requests'); the largest first, beyond CHART_SERIES summed as "Other".
 */
function activitySeries(report, kind, metric, labelOf) {
  const byName = new Map();
  for (const day of (report && report.results) || []) {
    const parts = (day.breakdown && day.breakdown[kind]) || {};
    for (const [name, part] of Object.entries(parts)) {
      const series = byName.get(name) || { key: name, label: labelOf(name, part), values: new Map(), total: 0 };
      const value = Number((part.metrics && part.metrics[metric]) || 0);
      series.values.set(day.date, (series.values.get(day.date) || 0) + value);
      series.total += value;
      byName.set(name, series);
    }
  }
  const all = [...byName.values()].filter((s) => s.total > 0).sort((a, b) => b.total - a.total || a.label.localeCompare(b.label));
  if (all.length <= CHART_SERIES + 1) return all;
  const other = { key: '', label: 'Other', values: new Map(), total: 0, other: true };
  for (const series of all.slice(CHART_SERIES)) {
    for (const [day, value] of series.values) other.values.set(day, (other.values.get(day) || 0) + value);
    other.total += series.total;
  }
  return [...all.slice(0, CHART_SERIES), other];
}

function colorOf(series, index) { return series.other ? OTHER_COLOR : CHART_COLORS[index % CHART_COLORS.length]; }

/** Draws the chart, its legend and its table into container (replacing what was there). */
function renderChart(container, { days, series, metric, title }) {
  const format = metric === 'spend' ? usd : num;
  const totals = days.map((day) => series.reduce((sum, s) => sum + (s.values.get(day) || 0), 0));
  const max = Math.max(0, ...totals);
  if (max === 0) {
    container.replaceChildren(el('p', { class: 'muted chart-empty', text: `No ${metric === 'spend' ? 'spend' : 'requests'} in these days.` }));
    return;
  }

  const width = 760; const height = 220; const left = 64; const right = 8; const top = 10; const bottom = 26;
  const plotWidth = width - left - right; const plotHeight = height - top - bottom;
  const slot = plotWidth / days.length; const barWidth = Math.max(2, Math.min(28, slot * 0.7));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', role: 'img', 'aria-label': `${title}: ${metric === 'spend' ? 'spend' : 'requests'} per day` });
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - fraction);
    chart.append(svg('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'chart-grid' }));
    chart.append(svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-axis' }, format(max * fraction)));
  }
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((day, i) => {
    const x = left + slot * i + (slot - barWidth) / 2;
    let y = top + plotHeight;
    series.forEach((s, index) => {
      const value = s.values.get(day) || 0;
      if (value <= 0) return;
      const h = (value / max) * plotHeight;
      y -= h;
      chart.append(svg('rect', { x: x.toFixed(2), y: y.toFixed(2), width: barWidth.toFixed(2), height: Math.max(h, 0.5).toFixed(2), fill: colorOf(s, index), 'data-series': s.label, 'data-day': day, 'data-value': value },
        svg('title', {}, `${s.label} · ${day}: ${format(value)}`)));
    });
    if (i % labelEvery === 0 || i === days.length - 1) {
      chart.append(svg('text', { x: (left + slot * i + slot / 2).toFixed(2), y: height - 8, 'text-anchor': 'middle', class: 'chart-axis' }, day.slice(5)));
    }
  });

  const legend = el('ul', { class: 'legend' }, ...series.map((s, index) => {
    const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = colorOf(s, index);
    return el('li', { 'data-series': s.label }, swatch, el('span', { text: s.label }), el('span', { class: 'muted', text: ' ' + format(s.total) }));
  }));

  const cell = (value, seriesLabel) => el('td', { class: 'num', 'data-series': seriesLabel, 'data-value': value }, value ? format(value) : '–');
  const rows = days.map((day, i) => ({ day, total: totals[i] })).filter((r) => r.total > 0).map(({ day, total }) =>
    el('tr', { 'data-day': day }, el('th', { scope: 'row', text: day }), ...series.map((s) => cell(s.values.get(day) || 0, s.label)), cell(total, 'Total')));
  const table = el('table', { class: 'chart-table' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Day (UTC)' }), ...series.map((s) => el('th', { scope: 'col', class: 'num', text: s.label })), el('th', { scope: 'col', class: 'num', text: 'Total' }))),
    el('tbody', {}, ...rows),
    el('tfoot', {}, el('tr', { 'data-day': 'total' }, el('th', { scope: 'row', text: 'Total' }), ...series.map((s) => cell(s.total, s.label)), cell(totals.reduce((a, b) => a + b, 0), 'Total'))));
  container.replaceChildren(el('div', { class: 'chart-figure' }, chart, legend), el('div', { class: 'table-wrap' }, table));
}
