// node build/screenshots.js <prometheus-url> <seconds>: renders each dashboard of
// grafana/dashboards/ from a live Prometheus into screenshots/<dashboard>.png.
//
// Grafana cannot be installed here, so this is a stand-in: it lays out the dashboard's own
// panels on its own grid, runs each panel's own queries over the last <seconds> through
// Prometheus' query_range API (instant queries for the single-value panels), draws them as
// SVG in Grafana's dark colours, and has Debian's Chromium (playwright-core) take the
// picture. The monitoring test runs it with MONITORING_SCREENSHOTS=1 against its stack.
import * as fs from "node:fs";
import * as path from "node:path";

import { chromium } from "playwright-core";

import { DASHBOARD_DIR, ROOT } from "./render";

const WIDTH = 1600;
const ROW_HEIGHT = 30;
const COLOURS = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#FADE2A", "#37872D", "#C4162A"];

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Step {
  value: number | null;
  color: string;
}
interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { steps: Step[] };
      mappings?: { options: Record<string, { text: string; color: string }> }[];
    };
  };
}
interface Dashboard {
  title: string;
  description?: string;
  panels: Panel[];
}
interface Series {
  metric: Record<string, string>;
  values: [number, string][];
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Grafana's variables as Grafana would send them for a short range scraped every second. */
const sent = (expr: string) => expr.replace(/\$__rate_interval/g, "15s").replace(/\$__interval/g, "2s").replace(/\$__range/g, "5m");

function legend(format: string | undefined, metric: Record<string, string>): string {
  if (!format) return JSON.stringify(metric);
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, label: string) => metric[label] ?? "");
}

function format(value: number, unit: string | undefined): string {
  if (!Number.isFinite(value)) return String(value);
  const round = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  switch (unit) {
    case "percentunit":
      return `${round(value * 100)}%`;
    case "s":
      if (value === 0) return "0 s";
      if (value < 0.001) return `${round(value * 1e6)} µs`;
      if (value < 1) return `${round(value * 1000)} ms`;
      return `${round(value)} s`;
    case "bytes": {
      const units = ["B", "KiB", "MiB", "GiB", "TiB"];
      let v = value;
      let i = 0;
      while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${round(v)} ${units[i]}`;
    }
    case "reqps":
      return `${round(value)} req/s`;
    case "ops":
      return `${round(value)} ops/s`;
    default:
      return Math.abs(value) >= 1000 ? `${round(value / 1000)} K` : round(value);
  }
}

async function api(prom: string, endpoint: string, params: Record<string, string>): Promise<unknown> {
  const res = await fetch(`${prom}/api/v1/${endpoint}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; data: { result: unknown }; error?: string };
  if (body.status !== "success") throw new Error(`${params.query}: ${body.error}`);
  return body.data.result;
}

function box(p: Panel, inner: string): string {
  const col = WIDTH / 24;
  const { x, y, w, h } = p.gridPos;
  const style = `left:${x * col + 4}px;top:${y * ROW_HEIGHT + 4}px;width:${w * col - 8}px;height:${h * ROW_HEIGHT - 8}px`;
  return `<div class="panel" style="${style}"><div class="title">${escape(p.title)}</div>${inner}</div>`;
}

async function statPanel(prom: string, p: Panel): Promise<string> {
  const d = p.fieldConfig?.defaults ?? {};
  const cells: string[] = [];
  for (const t of p.targets ?? []) {
    const result = (await api(prom, "query", { query: sent(t.expr) })) as { metric: Record<string, string>; value: [number, string] }[];
    for (const r of result) {
      const v = Number(r.value[1]);
      const steps = d.thresholds?.steps ?? [];
      const colour = steps.filter((s) => s.value === null || v >= s.value).pop()?.color ?? "#73BF69";
      const mapped = d.mappings?.[0]?.options[String(v)];
      cells.push(
        `<div class="stat" style="background:${mapped?.color ?? colour}">${escape(mapped?.text ?? format(v, d.unit))}</div>`,
      );
    }
  }
  return box(p, cells.length ? `<div class="stats">${cells.join("")}</div>` : `<div class="nodata">No data</div>`);
}

async function graphPanel(prom: string, p: Panel, start: number, end: number): Promise<string> {
  const unit = p.fieldConfig?.defaults?.unit;
  const step = Math.max(1, Math.round((end - start) / 240));
  const lines: { name: string; points: [number, number][] }[] = [];
  for (const t of p.targets ?? []) {
    const result = (await api(prom, "query_range", {
      query: sent(t.expr),
      start: String(start),
      end: String(end),
      step: String(step),
    })) as Series[];
    for (const s of result) {
      lines.push({
        name: legend(t.legendFormat, s.metric),
        points: s.values.map(([ts, v]) => [ts, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)),
      });
    }
  }
  const col = WIDTH / 24;
  const w = p.gridPos.w * col - 8;
  const legendRows = Math.min(3, Math.ceil(lines.length / Math.max(1, Math.floor(w / 220))));
  const h = p.gridPos.h * ROW_HEIGHT - 8 - 28 - legendRows * 16 - 6;
  if (lines.every((l) => l.points.length === 0)) return box(p, `<div class="nodata">No data</div>`);
  const left = 70;
  const bottom = 18;
  const plotW = w - left - 30;
  const plotH = h - bottom - 4;
  const max = Math.max(...lines.flatMap((l) => l.points.map(([, v]) => v)), 0) || 1;
  const xOf = (ts: number) => left + ((ts - start) / (end - start)) * plotW;
  const yOf = (v: number) => 4 + plotH - (v / max) * plotH;
  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    grid.push(`<line x1="${left}" x2="${left + plotW}" y1="${yOf(v)}" y2="${yOf(v)}" class="grid"/>`);
    grid.push(`<text x="${left - 6}" y="${yOf(v) + 4}" text-anchor="end">${escape(format(v, unit))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const ts = start + ((end - start) * i) / 4;
    const label = new Date(ts * 1000).toISOString().slice(11, 19);
    grid.push(`<text x="${xOf(ts)}" y="${plotH + bottom + 2}" text-anchor="middle">${label}</text>`);
  }
  const paths = lines.map((l, i) => {
    const c = COLOURS[i % COLOURS.length];
    const d = l.points.map(([ts, v], j) => `${j ? "L" : "M"}${xOf(ts).toFixed(1)},${yOf(v).toFixed(1)}`).join("");
    return `<path d="${d}" stroke="${c}" fill="none" stroke-width="1.5"/>`;
  });
  const keys = lines
    .slice(0, legendRows * Math.max(1, Math.floor(w / 220)))
    .map((l, i) => `<span><i style="background:${COLOURS[i % COLOURS.length]}"></i>${escape(l.name)}</span>`);
  return box(p, `<svg width="${w}" height="${h}">${grid.join("")}${paths.join("")}</svg><div class="legend">${keys.join("")}</div>`);
}

async function page(prom: string, dash: Dashboard, seconds: number): Promise<string> {
  const end = Math.floor(Date.now() / 1000);
  const start = end - seconds;
  const panels: string[] = [];
  for (const p of dash.panels) {
    if (p.type === "row") {
      const { y } = p.gridPos;
      panels.push(`<div class="row" style="top:${y * ROW_HEIGHT + 6}px">${escape(p.title)}</div>`);
    } else if (p.type === "stat") {
      panels.push(await statPanel(prom, p));
    } else {
      panels.push(await graphPanel(prom, p, start, end));
    }
  }
  const height = Math.max(...dash.panels.map((p) => (p.gridPos.y + p.gridPos.h) * ROW_HEIGHT)) + 10;
  const when = `${new Date(start * 1000).toISOString().slice(0, 19)} to ${new Date(end * 1000).toISOString().slice(11, 19)} UTC`;
  return `<!doctype html><html><head><meta charset="utf-8"><style>
  body{margin:0;background:#111217;color:#ccccdc;font:12px "DejaVu Sans",sans-serif;width:${WIDTH}px}
  header{padding:10px 12px;border-bottom:1px solid #2a2d33}
  header h1{font-size:18px;margin:0 0 4px;color:#fff;font-weight:500}
  header p{margin:0;color:#8e8e99}
  main{position:relative;height:${height}px}
  .panel{position:absolute;background:#181b1f;border:1px solid #2a2d33;border-radius:2px;overflow:hidden}
  .title{font-weight:500;color:#d8d9da;padding:6px 8px;height:16px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
  .row{position:absolute;left:8px;font-size:14px;font-weight:500;color:#fff}
  svg{display:block;margin-left:4px} svg text{fill:#8e8e99;font-size:10px} .grid{stroke:#2a2d33}
  .legend{padding:2px 8px;display:flex;flex-wrap:wrap;gap:2px 14px;color:#ccccdc;font-size:11px}
  .legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
  .stats{display:flex;gap:4px;padding:0 6px;height:calc(100% - 36px)}
  .stat{flex:1;display:flex;align-items:center;justify-content:center;font-size:26px;font-weight:600;color:#fff;border-radius:2px}
  .nodata{color:#8e8e99;text-align:center;padding-top:30px}
  </style></head><body><header><h1>${escape(dash.title)}</h1>
  <p>Stand-in rendering, not Grafana: each panel of grafana/dashboards runs its own queries against the monitoring test's Prometheus (local stack, ${when}).</p>
  </header><main>${panels.join("")}</main></body></html>`;
}

async function main(): Promise<void> {
  const [prom, secondsArg] = process.argv.slice(2);
  if (!prom) throw new Error("usage: node build/screenshots.js <prometheus-url> [seconds]");
  const seconds = Number(secondsArg ?? "300");
  const out = path.join(ROOT, "screenshots");
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
  try {
    const tab = await browser.newPage({ viewport: { width: WIDTH, height: 300 } });
    for (const file of fs.readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith(".json")).sort()) {
      const dash = JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, file), "utf8")) as Dashboard;
      await tab.setContent(await page(prom, dash, seconds));
      const png = path.join(out, file.replace(/\.json$/, ".png"));
      await tab.screenshot({ path: png, fullPage: true });
      console.log(`screenshots/${path.basename(png)}: ${dash.title}`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
