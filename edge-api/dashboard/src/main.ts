// The QA dashboard's script (served as /dashboard.js). The page holds no data: everything comes from the same
// JSON API as everyone else's, with the DASHBOARD_TOKEN the reviewer enters.
import { signIn, refresh, start } from "./app.ts";
import { fail, showApp, signOut } from "./auth.ts";
import { closeDrop, openDrop, submitReview } from "./detail.ts";
import { loadFeed } from "./feed.ts";
import { state } from "./state.ts";
import { ui } from "./ui.ts";
import { releaseViewer } from "./viewer.ts";

ui.loginForm.addEventListener("submit", (e) => void signIn(e));
ui.signout.addEventListener("click", () => signOut());
ui.filters.addEventListener("submit", (e) => {
  e.preventDefault();
  state.filters = { project: ui.project.value, status: ui.status.value, date: ui.date.value };
  loadFeed(true).catch(fail);
});
ui.rows.addEventListener("click", (e) => {
  const row = (e.target as Element).closest("tr[data-drop]");
  if (row) void openDrop(row.getAttribute("data-drop")!);
});
ui.more.addEventListener("click", () => loadFeed(false).catch(fail));
ui.close.addEventListener("click", closeDrop);
ui.markComplete.addEventListener("click", () => void submitReview("complete"));
ui.markIncomplete.addEventListener("click", () => void submitReview("incomplete"));
ui.viewerClose.addEventListener("click", () => ui.viewer.close());
ui.viewer.addEventListener("close", releaseViewer);
ui.reviewer.value = state.reviewer;
setInterval(() => void refresh(), 15_000);
if (state.token) void start();
else showApp(false);
