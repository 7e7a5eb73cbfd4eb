// The figures `npm run bench` reports against their targets: each is printed beside its target with PASS or
// MISS, and `--json FILE` writes them all. A target is what the issue that named the figure asked for; it is
// never adjusted to make a figure pass.
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { line, table } from "./measure.ts";

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** "<= N" or ">= N", in the figure's unit. */
  target: string;
  pass: boolean;
  /** How it was measured, in a few words (printed, and kept in the JSON). */
  note?: string;
}

const figures: Figure[] = [];

function meets(value: number, target: string): boolean {
  const m = /^(<=|>=) *(-?[\d.]+)$/.exec(target);
  if (!m) throw new Error(`bad target ${target}: use "<= N" or ">= N"`);
  const bound = Number(m[2]);
  return m[1] === "<=" ? value <= bound : value >= bound;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(Math.abs(v) >= 10 ? 1 : 2));

/** Records a figure and prints its line at once, so a long run shows results as they come. */
export function figure(name: string, value: number, unit: string, target: string, note?: string): Figure {
  const f: Figure = { name, value, unit, target, pass: meets(value, target), ...(note ? { note } : {}) };
  figures.push(f);
  line(`  ${f.pass ? "PASS" : "MISS"}  ${name}: ${fmt(value)} ${unit} (target ${target} ${unit})${note ? ` — ${note}` : ""}`);
  return f;
}

export function allFigures(): readonly Figure[] {
  return figures;
}

/** The summary table at the end of a run. */
export function printFigures(): void {
  line();
  line("== Figures against their targets");
  table(
    ["figure", "value", "target", "result"],
    figures.map((f) => [f.name, `${fmt(f.value)} ${f.unit}`, `${f.target} ${f.unit}`, f.pass ? "PASS" : "MISS"]),
  );
  const missed = figures.filter((f) => !f.pass);
  line(missed.length ? `${missed.length} of ${figures.length} figures MISS their target` : `all ${figures.length} figures meet their target`);
}

export async function writeFiguresJson(file: string): Promise<void> {
  const cpus = os.cpus();
  const body = {
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? "unknown", node: process.version },
    figures,
  };
  await writeFile(file, JSON.stringify(body, null, 2) + "\n");
}
