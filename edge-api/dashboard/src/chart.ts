// The 30-day chart at the top: drops per day per project (GET /v1/stats/daily), one small SVG per project on one
// shared scale, so projects compare at a glance. Built from DOM nodes — nothing from the API is parsed as markup —
// and styled by classes only, since the page's CSP allows no inline styles.
import { addDays, dayLabel } from "./clock.ts";
import { el, svgEl } from "./dom.ts";
import type { DailyStats } from "./types.ts";

export const CHART_DAYS = 30;

const SERIES = ["new", "resubmitted", "complete", "incomplete"] as const;
type Series = (typeof SERIES)[number];
type Counts = Record<Series, number>;

const W = 240;
const H = 96;
const PAD = { left: 22, right: 6, top: 8, bottom: 18 };

/** The days the chart covers, oldest first, ending today. */
export function chartDates(today: string): string[] {
  return Array.from({ length: CHART_DAYS }, (_, i) => addDays(today, i - CHART_DAYS + 1));
}

const zero = (): Counts => ({ new: 0, resubmitted: 0, complete: 0, incomplete: 0 });
const describe = (c: Counts) => SERIES.map((s) => `${c[s]} ${s}`).join(", ");

/** Per project, per date: the counts. Every project named is listed, with or without counts. */
function byProject(projects: string[], days: DailyStats["days"]): Map<string, Map<string, Counts>> {
  const out = new Map<string, Map<string, Counts>>(projects.map((p) => [p, new Map()]));
  for (const d of days) {
    const dates = out.get(d.project) ?? out.set(d.project, new Map()).get(d.project)!;
    dates.set(d.date, { new: d.new, resubmitted: d.resubmitted, complete: d.complete, incomplete: d.incomplete });
  }
  return out;
}

export function renderCharts(container: HTMLElement, projects: string[], days: DailyStats["days"], dates: string[]): void {
  const data = byProject(projects, days);
  const top = Math.max(1, ...days.filter((d) => dates.includes(d.date)).flatMap((d) => SERIES.map((s) => d[s])));
  const range = `${dayLabel(dates[0]!)} – ${dayLabel(dates.at(-1)!)}`;
  container.replaceChildren(
    ...[...data].map(([project, counts], i) => projectChart(`chart-${i}`, project, dates.map((d) => counts.get(d) ?? zero()), dates, top, range)),
    el("ul", { class: "legend", "aria-hidden": "true" }, ...SERIES.map((s) => el("li", {}, el("span", { class: "swatch s-" + s }), s))),
  );
}

function projectChart(id: string, project: string, counts: Counts[], dates: string[], top: number, range: string): HTMLElement {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (i * plotW) / Math.max(1, dates.length - 1);
  const y = (v: number) => PAD.top + plotH * (1 - v / top);
  const step = plotW / Math.max(1, dates.length - 1);
  const totals = zero();
  for (const c of counts) for (const s of SERIES) totals[s] += c[s];
  const summary = "Totals: " + describe(totals) + ".";

  const svg = svgEl(
    "svg",
    { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc` },
    svgEl("title", { id: `${id}-title` }, `${project}: drops per day, ${range}`),
    svgEl("desc", { id: `${id}-desc` }, summary),
    svgEl("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0) }),
    svgEl("text", { class: "tick", x: PAD.left - 4, y: y(top) + 4, "text-anchor": "end" }, String(top)),
    svgEl("text", { class: "tick", x: PAD.left - 4, y: y(0) + 4, "text-anchor": "end" }, "0"),
    svgEl("text", { class: "tick", x: PAD.left, y: H - 4, "text-anchor": "start" }, dayLabel(dates[0]!)),
    svgEl("text", { class: "tick", x: W - PAD.right, y: H - 4, "text-anchor": "end" }, dayLabel(dates.at(-1)!)),
    // "new" drawn last, so it is on top where lines meet.
    ...[...SERIES].reverse().map((s) =>
      svgEl("polyline", { class: "line s-" + s, "data-series": s, points: counts.map((c, i) => `${x(i).toFixed(1)},${y(c[s]).toFixed(1)}`).join(" ") }),
    ),
    // One column per day, its counts as a tooltip (and for screen readers).
    ...counts.map((c, i) =>
      svgEl("rect", { class: "day", "data-date": dates[i], x: (x(i) - step / 2).toFixed(1), y: PAD.top, width: step.toFixed(1), height: plotH }, svgEl("title", {}, `${dayLabel(dates[i]!)}: ${describe(c)}`)),
    ),
  );
  return el("figure", { class: "trend", "data-project": project }, el("figcaption", {}, el("strong", {}, project), el("span", { class: "totals muted" }, describe(totals))), svg);
}
