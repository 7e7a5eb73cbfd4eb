// The header's WhatsApp sessions with their health, today's counts above the list, and the 30-day chart.
import { api } from "./api.ts";
import { chartDates, renderCharts } from "./chart.ts";
import { el } from "./dom.ts";
import { ready, state } from "./state.ts";
import { ui } from "./ui.ts";

export async function loadOverview(): Promise<void> {
  const { clock } = ready();
  const dates = chartDates(clock.today());
  const today = dates.at(-1)!;
  const [{ sessions }, stats] = await Promise.all([api.sessions(), api.dailyStats(dates[0]!, today)]);
  ui.sessions.replaceChildren(
    ...sessions.map((s) =>
      el(
        "span",
        { class: "chip " + (s.stale || s.state !== "open" ? "bad" : "open"), title: s.agent + " · last heartbeat " + clock.when(s.lastHeartbeatAt) },
        s.session + ": " + (s.stale ? "stale" : s.state),
      ),
    ),
  );
  const t = { new: 0, resubmitted: 0, complete: 0, incomplete: 0 };
  for (const d of stats.days.filter((d) => d.date === today)) {
    t.new += d.new;
    t.resubmitted += d.resubmitted;
    t.complete += d.complete;
    t.incomplete += d.incomplete;
  }
  ui.today.textContent = `Today: ${t.new} new · ${t.resubmitted} resubmitted · ${t.complete} complete · ${t.incomplete} incomplete`;
  renderCharts(ui.charts, state.projects, stats.days, dates);
}

export function renderProjects(names: string[]): void {
  state.projects = names;
  ui.project.replaceChildren(el("option", { value: "" }, "All projects"), ...names.map((n) => el("option", { value: n }, n)));
}
