// Signing in, loading what the page needs from the API, and refreshing it.
import { api, AuthError } from "./api.ts";
import { fail, showApp } from "./auth.ts";
import { clockIn } from "./clock.ts";
import { loadFeed, MAX_RELOAD } from "./feed.ts";
import { loadOverview, renderProjects } from "./overview.ts";
import { state } from "./state.ts";
import { ui } from "./ui.ts";

export async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  state.token = ui.token.value.trim();
  state.reviewer = ui.reviewer.value.trim();
  try {
    await api.settings();
  } catch (err) {
    ui.loginError.textContent = err instanceof AuthError ? err.message : "Could not reach the API: " + (err as Error).message;
    return;
  }
  localStorage.setItem("wam.token", state.token);
  localStorage.setItem("wam.reviewer", state.reviewer);
  await start();
}

export async function start(): Promise<void> {
  showApp(true);
  try {
    // The step labels and the time zone are the edge's: the page has no copy of its own.
    const [settings, { projects }] = await Promise.all([api.settings(), api.projects()]);
    state.ready = { steps: settings.qaSteps, clock: clockIn(settings.timeZone) };
    renderProjects([...new Set(projects.map((p) => p.name))]);
  } catch (err) {
    return fail(err);
  }
  await refresh();
}

export async function refresh(): Promise<void> {
  if (!state.token || !state.ready) return;
  ui.error.textContent = "";
  const feed = state.items.length <= MAX_RELOAD ? loadFeed(true) : Promise.resolve();
  try {
    await Promise.all([feed, loadOverview()]);
  } catch (err) {
    fail(err);
  }
}
