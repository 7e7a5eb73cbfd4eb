// The dashboard's 30-day chart, in Chromium against the Worker under `wrangler dev`: drops per day per project
// as GET /v1/stats/daily counts them, one small SVG per project on one scale, labelled for screen readers, and
// built without markup from data or inline styles (the page's CSP allows neither).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, submission } from "./harness.ts";
import { startRig, type Rig } from "./dashboard-rig.ts";

const ZONE = "Africa/Johannesburg"; // the Worker's default TIMEZONE: UTC+2 all year
const dayIn = (offset: number) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA", { timeZone: ZONE });
/** Noon of that local day. */
const noon = (offset: number) => `${dayIn(offset)}T10:00:00.000Z`;
const label = (date: string) => new Date(date + "T00:00:00Z").toLocaleDateString("en-ZA", { timeZone: "UTC", day: "numeric", month: "short" });

let rig: Rig;
const [LAWLEY, MOHADIN] = [PROJECTS[0]!, PROJECTS[2]!];

beforeAll(async () => {
  rig = await startRig();
  await rig.call(AGENT_TOKEN, "POST", "/v1/agent/drops", {
    submissions: [
      submission({ dropNumber: "DR72000001", text: "DR72000001 done", sentAt: noon(-1) }),
      submission({ dropNumber: "DR72000002", text: "DR72000002 done", sentAt: noon(-1) }),
      submission({ dropNumber: "DR72000003", text: "DR72000003 done", sentAt: noon(-5) }),
      submission({ dropNumber: "DR72000003", text: "DR72000003 again", sentAt: noon(-4) }),
      submission({ dropNumber: "DR72000004", chatJid: MOHADIN.groupJid, text: "DR72000004 done", sentAt: noon(-29) }),
      // A day before the chart's 30.
      submission({ dropNumber: "DR72000005", chatJid: MOHADIN.groupJid, text: "DR72000005 done", sentAt: noon(-30) }),
    ],
  });
  await rig.call(DASHBOARD_TOKEN, "PATCH", "/v1/drops/DR72000001/review", { status: "complete", reviewer: "Anel", steps: {} });
  await rig.call(DASHBOARD_TOKEN, "PATCH", "/v1/drops/DR72000002/review", { status: "incomplete", reviewer: "Anel", steps: {} });
  await rig.signIn();
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

const titles = (project: string) =>
  rig.page.$$eval(`#charts figure[data-project="${project}"] rect.day`, (rs) => rs.map((r) => [r.getAttribute("data-date")!, r.querySelector("title")!.textContent!] as const));

describe("the 30-day chart", () => {
  it("draws one chart per project for the last 30 days, each day's counts as GET /v1/stats/daily answers them", async () => {
    await rig.page.waitForSelector("#charts figure");
    const figures = await rig.page.$$eval("#charts figure", (fs) => fs.map((f) => f.getAttribute("data-project")));
    expect(figures).toEqual(PROJECTS.map((p) => p.name).sort()); // as GET /v1/projects lists them

    const stats = await rig.call(DASHBOARD_TOKEN, "GET", `/v1/stats/daily?from=${dayIn(-29)}&to=${dayIn(0)}`);
    expect(stats.days.length).toBeGreaterThan(0);
    for (const project of PROJECTS.map((p) => p.name)) {
      const shown = await titles(project);
      expect(shown.map(([date]) => date)).toEqual(Array.from({ length: 30 }, (_, i) => dayIn(i - 29)));
      for (const [date, title] of shown) {
        const d = stats.days.find((s: any) => s.project === project && s.date === date) ?? { new: 0, resubmitted: 0, complete: 0, incomplete: 0 };
        expect(title, `${project} ${date}`).toBe(`${label(date)}: ${d.new} new, ${d.resubmitted} resubmitted, ${d.complete} complete, ${d.incomplete} incomplete`);
      }
    }
    // The days seeded above, as the chart shows them.
    const lawley = new Map(await titles(LAWLEY.name));
    expect(lawley.get(dayIn(-1))).toMatch(/: 2 new, 0 resubmitted/);
    expect(lawley.get(dayIn(0))).toMatch(/: 0 new, 0 resubmitted, 1 complete, 1 incomplete$/);
    expect(new Map(await titles(MOHADIN.name)).get(dayIn(-29))).toMatch(/: 1 new,/);
    expect(await rig.page.textContent("#today")).toBe("Today: 0 new · 0 resubmitted · 1 complete · 1 incomplete");
  });

  it("plots each series on one scale shared by the projects: the highest count at the top, none on the axis", async () => {
    const points = async (project: string, series: string) =>
      (await rig.page.getAttribute(`#charts figure[data-project="${project}"] polyline[data-series=${series}]`, "points"))!
        .split(" ")
        .map((p) => Number(p.split(",")[1]));
    const lawleyNew = await points(LAWLEY.name, "new");
    expect(lawleyNew).toHaveLength(30);
    const [top, axis] = [Math.min(...lawleyNew), Math.max(...lawleyNew)];
    expect(lawleyNew[28]).toBe(top); // yesterday's 2
    expect(lawleyNew[0]).toBe(axis);
    const mohadinNew = await points(MOHADIN.name, "new");
    expect(mohadinNew[0]).toBeCloseTo((top + axis) / 2, 0); // 1 of 2, on the same scale
    expect(await rig.page.$$eval("#charts figure:first-of-type text.tick", (ts) => ts.map((t) => t.textContent))).toContain("2");
    for (const series of ["new", "resubmitted", "complete", "incomplete"]) expect(await points(PROJECTS[1]!.name, series)).toEqual(Array(30).fill(axis));
  });

  it("names each chart for screen readers: its project, its days and its totals", async () => {
    const labelled = await rig.page.$$eval("#charts svg", (svgs) =>
      svgs.map((svg) => [svg.getAttribute("role"), svg.getAttribute("aria-labelledby")!.split(" ").map((id) => document.getElementById(id)?.textContent)]),
    );
    expect(labelled).toHaveLength(PROJECTS.length);
    const range = `${label(dayIn(-29))} – ${label(dayIn(0))}`;
    expect(labelled[0]).toEqual(["img", [`${LAWLEY.name}: drops per day, ${range}`, "Totals: 3 new, 1 resubmitted, 1 complete, 1 incomplete."]]);
  });

  it("ran without script errors, inline styles, or anything its Content-Security-Policy refused", async () => {
    expect(await rig.page.$$eval("[style]", (xs) => xs.length)).toBe(0);
    expect(rig.pageErrors).toEqual([]);
    expect(rig.consoleErrors).toEqual([]);
  });
});
