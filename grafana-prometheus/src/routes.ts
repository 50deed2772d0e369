// node build/routes.js: alertmanager.yml routes every rule of alerts.yml to the receiver its
// severity names, as Alertmanager itself resolves it (`amtool config routes test`, from
// Debian's prometheus-alertmanager), and its inhibition rules name only alerts that exist.
// A new rule with a severity this table does not know, or one the routes send elsewhere,
// fails here. scripts/monitoring.sh runs it after `amtool check-config`.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import YAML from "yaml";

import { ROOT } from "./render";

// Who hears about each severity (docs/operating/monitoring.md, "Alertmanager").
export const RECEIVER_BY_SEVERITY: Record<string, string> = {
  critical: "page",
  warning: "ticket",
};

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
}
interface Matchers {
  source_matchers?: string[];
  target_matchers?: string[];
}
interface Config {
  receivers: { name: string }[];
  inhibit_rules?: Matchers[];
}

// The alert names an `alertname` matcher names: `alertname="A"` or `alertname=~"A|B"`.
export function alertnamesOf(matcher: string): string[] {
  const m = /^\s*alertname\s*(=~|=)\s*"([^"]*)"\s*$/.exec(matcher);
  if (!m) return [];
  return m[1] === "=" ? [m[2] ?? ""] : (m[2] ?? "").split("|");
}

function main(): number {
  const problems: string[] = [];
  const configFile = path.join(ROOT, "alertmanager.yml");
  const config = YAML.parse(fs.readFileSync(configFile, "utf8")) as Config;
  const rules = (YAML.parse(fs.readFileSync(path.join(ROOT, "alerts.yml"), "utf8")) as { groups: { rules: Rule[] }[] }).groups
    .flatMap((g) => g.rules)
    .filter((r) => r.alert);
  const names = new Set(rules.map((r) => r.alert ?? ""));
  const receivers = new Set(config.receivers.map((r) => r.name));
  for (const [severity, receiver] of Object.entries(RECEIVER_BY_SEVERITY)) {
    if (!receivers.has(receiver)) problems.push(`severity ${severity}: alertmanager.yml has no receiver ${receiver}`);
  }

  for (const rule of rules) {
    const name = rule.alert ?? "";
    const severity = rule.labels?.severity ?? "";
    const expected = RECEIVER_BY_SEVERITY[severity];
    if (!expected) {
      problems.push(`alert ${name}: severity "${severity}" has no receiver (add a route to alertmanager.yml and a row to routes.ts)`);
      continue;
    }
    const labels = Object.entries({ ...rule.labels, alertname: name }).map(([k, v]) => `${k}=${v}`);
    let said: string;
    try {
      said = execFileSync(
        "amtool",
        ["config", "routes", "test", `--config.file=${configFile}`, `--verify.receivers=${expected}`, ...labels],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      ).trim();
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? String(e);
      problems.push(`alert ${name} (${severity}): routed to ${out.trim().split("\n")[0]}, not ${expected}`);
      continue;
    }
    console.log(`  ${name.padEnd(24)} ${severity.padEnd(8)} -> ${said}`);
  }

  for (const [i, rule] of (config.inhibit_rules ?? []).entries()) {
    const matchers = [...(rule.source_matchers ?? []), ...(rule.target_matchers ?? [])];
    const named = matchers.flatMap(alertnamesOf);
    if (named.length === 0) problems.push(`inhibit rule ${i + 1} names no alert`);
    for (const n of named) {
      if (!names.has(n)) problems.push(`inhibit rule ${i + 1} names ${n}, which is no alert of alerts.yml`);
    }
  }

  if (problems.length > 0) {
    console.error(problems.map((p) => `  ${p}`).join("\n"));
    console.error(`alertmanager.yml: ${problems.length} problem(s)`);
    return 1;
  }
  console.log(`alertmanager.yml: ${rules.length} alerts routed by severity, ${(config.inhibit_rules ?? []).length} inhibit rules name only alerts`);
  return 0;
}

process.exit(main());
