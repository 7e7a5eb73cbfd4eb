// Timing and printing for `npm run bench`. Numbers are printed, never asserted: the machine decides them.
import { performance } from "node:perf_hooks";

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile: with ~20 samples, p95 is the second-largest, never an interpolated value. */
function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: number[]): Summary {
  if (!samples.length) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** Runs fn and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** `warmup` unmeasured runs (connections, JIT, caches), then `runs` timed ones. */
export async function sample(runs: number, fn: () => Promise<unknown>, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push((await timed(fn)).ms);
  return out;
}

export const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
export const int = (v: number): string => Math.round(v).toLocaleString("en-US");
export const secs = (msValue: number): string => `${(msValue / 1000).toFixed(1)} s`;

export const sleep = (msValue: number) => new Promise((r) => setTimeout(r, msValue));

export function heading(title: string): void {
  process.stdout.write(`\n== ${title} ${"=".repeat(Math.max(0, 100 - title.length))}\n`);
}

export function line(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** A plain-text table; numeric-looking cells are right-aligned. */
export function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const numeric = (s: string) => /^[-+]?[\d,.]+( ?[a-z/%]+)?$/i.test(s) && /\d/.test(s);
  const fmt = (cells: string[], header: boolean) =>
    cells
      .map((cell, c) => (!header && c > 0 && numeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  line(fmt(headers, true));
  line(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) line(fmt(r, false));
}

/** The standard latency row: what, how many, median, p95, max (milliseconds). */
export function latencyRow(what: string, samples: number[], extra = ""): string[] {
  const s = summarize(samples);
  return [what, String(s.n), ms(s.median), ms(s.p95), ms(s.max), extra];
}
export const LATENCY_HEADERS = ["what", "runs", "median ms", "p95 ms", "max ms", "notes"];
