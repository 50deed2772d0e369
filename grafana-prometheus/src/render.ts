// Turns the dashboards of dashboards.ts into the JSON files Grafana is provisioned from.
import * as fs from "node:fs";
import * as path from "node:path";

import { DASHBOARDS } from "./dashboards";

/** grafana-prometheus/, whether run from src/ (ts) or build/ (js). */
export const ROOT = path.resolve(__dirname, "..");
export const DASHBOARD_DIR = path.join(ROOT, "grafana", "dashboards");

/**
 * Said in every dashboard's description, since Grafana's JSON has no comments: the file is
 * generated, from what, and how to make it again.
 */
export const GENERATED_NOTE =
  "Generated file: made from grafana-prometheus/src/dashboards.ts by `npm run generate` " +
  "(src/generate.ts) in grafana-prometheus/. Change the code and generate again, never this " +
  "JSON: `npm run check` fails when the two differ.";

/** Each dashboard file's name and the exact text it must have. */
export function render(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { file, build } of DASHBOARDS) {
    const dash = build().build();
    dash.description = dash.description ? `${dash.description} ${GENERATED_NOTE}` : GENERATED_NOTE;
    // Panel ids: unique within the dashboard, in reading order (Grafana links to panels by id).
    (dash.panels ?? []).forEach((panel, i) => {
      panel.id = i + 1;
    });
    out.set(file, JSON.stringify(dash, null, 2) + "\n");
  }
  return out;
}

/** Reads a dashboard file as committed. */
export function committed(file: string): string | undefined {
  const p = path.join(DASHBOARD_DIR, file);
  return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
}
