// The dashboard's script, served as /dashboard.js. Plain browser JavaScript (no build step); it is kept free
// of backticks so it can live in this string.
export const DASHBOARD_JS = String.raw`
"use strict";
const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
const state = {
  token: localStorage.getItem("wam.token") || "",
  reviewer: localStorage.getItem("wam.reviewer") || "",
  items: [], cursor: null, filters: {},
  selected: null, // the drop clicked last
  shown: null,    // the drop whose details are on screen (what a review applies to)
  feedSeq: 0,     // only the newest feed request may write the list
};
const when = new Intl.DateTimeFormat("en-ZA", { timeZone: config.timeZone, dateStyle: "medium", timeStyle: "short" });
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone }).format(new Date());
const fmt = (iso) => (iso ? when.format(new Date(iso)) : "–");

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

class AuthError extends Error {}

async function api(path, options) {
  const res = await fetch(path, Object.assign({}, options, {
    headers: { authorization: "Bearer " + state.token, "content-type": "application/json" },
  }));
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) throw new AuthError("The token was not accepted.");
  if (!res.ok) throw new Error((body.error && body.error.message) || ("HTTP " + res.status));
  return body;
}

function fail(err) {
  if (err instanceof AuthError) return signOut(err.message);
  $("error").textContent = err.message;
}

function showApp(on) {
  $("login").hidden = on; $("app").hidden = !on; $("signout").hidden = !on;
}

function signOut(message) {
  localStorage.removeItem("wam.token");
  state.token = "";
  showApp(false);
  $("login-error").textContent = message || "";
}

async function signIn(event) {
  event.preventDefault();
  state.token = $("token").value.trim();
  state.reviewer = $("reviewer").value.trim();
  try {
    await api("/v1/projects");
  } catch (err) {
    $("login-error").textContent = err instanceof AuthError ? err.message : "Could not reach the API: " + err.message;
    return;
  }
  localStorage.setItem("wam.token", state.token);
  localStorage.setItem("wam.reviewer", state.reviewer);
  start();
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return q.toString();
}

// reset: page 1 again (as many rows as are shown, so a refresh keeps what "Load more" added);
// otherwise the next page. Responses that arrive after a newer request started are dropped.
async function loadFeed(reset) {
  const seq = ++state.feedSeq;
  const limit = reset ? Math.min(200, Math.max(50, state.items.length)) : 50;
  const params = Object.assign({ limit }, state.filters, reset ? {} : { cursor: state.cursor });
  const page = await api("/v1/drops?" + query(params));
  if (seq !== state.feedSeq) return;
  state.items = reset ? page.items : state.items.concat(page.items);
  state.cursor = page.nextCursor;
  renderFeed();
}

function stepsDone(d) { return Object.values(d.steps).filter(Boolean).length; }

function renderFeed() {
  const body = document.querySelector("#drops tbody");
  body.replaceChildren(...state.items.map((d) => el("tr", {
      "data-drop": d.dropNumber, class: state.selected === d.dropNumber ? "selected" : "",
      onclick: () => openDrop(d.dropNumber),
    },
    el("td", {}, el("strong", {}, d.dropNumber)),
    el("td", {}, d.project),
    el("td", {}, el("span", { class: "badge " + d.status }, d.status), d.resubmitted ? " ↻" : ""),
    el("td", {}, stepsDone(d) + "/" + config.steps.length),
    el("td", {}, d.senderName || "", d.senderPhone ? " " + d.senderPhone : ""),
    el("td", {}, fmt(d.lastSubmittedAt)),
    el("td", {}, d.feedbackSentAt ? "sent " + fmt(d.feedbackSentAt) : "–"),
  )));
  $("empty").hidden = state.items.length > 0;
  $("more").hidden = !state.cursor;
}

async function openDrop(dropNumber) {
  state.selected = dropNumber;
  renderFeed();
  const d = await api("/v1/drops/" + encodeURIComponent(dropNumber)).catch(fail);
  // Another drop was clicked while this one loaded: its details win.
  if (d && state.selected === dropNumber) renderDetail(d);
}

function renderDetail(d) {
  state.shown = d.dropNumber;
  $("detail").hidden = false;
  $("d-title").textContent = d.dropNumber + " · " + d.project;
  $("d-meta").textContent = d.status + (d.reviewer ? " · reviewed by " + d.reviewer + " " + fmt(d.reviewedAt) : "") +
    " · first posted " + fmt(d.firstSubmittedAt);
  $("d-steps").replaceChildren(el("legend", {}, "Photo steps"), ...config.steps.map((s) =>
    el("label", {}, el("input", { type: "checkbox", name: s.key, checked: d.steps[s.key] }), s.label)));
  $("d-comment").value = "";
  $("d-result").textContent = "";
  $("d-submissions").replaceChildren(...d.submissions.map((s) => el("li", {},
    fmt(s.sentAt) + " · " + (s.senderName || s.senderJid) + " via " + s.bridge + (s.resubmission ? " (resubmission)" : "") + "\n" + s.text)));
  $("d-reviews").replaceChildren(...d.reviews.map((r) => el("li", {},
    fmt(r.createdAt) + " · " + r.status + " by " + r.reviewer + (r.comment ? "\n" + r.comment : ""))));
  $("d-feedback").replaceChildren(...d.feedback.map((f) => el("li", {},
    f.status + (f.sentAt ? " " + fmt(f.sentAt) : "") + (f.error ? " · " + f.error : "") + "\n" + f.text)));
}

async function submitReview(status) {
  const dropNumber = state.shown;
  if (!dropNumber) return;
  const steps = {};
  for (const box of $("d-steps").querySelectorAll("input[type=checkbox]")) steps[box.name] = box.checked;
  const comment = $("d-comment").value.trim();
  const body = { steps, status, reviewer: state.reviewer || "QA" };
  if (comment) body.comment = comment;
  try {
    const d = await api("/v1/drops/" + encodeURIComponent(dropNumber) + "/review", { method: "PATCH", body: JSON.stringify(body) });
    if (state.shown === dropNumber) renderDetail(d);
    $("d-result").textContent = status === "incomplete" ? "Marked incomplete — feedback scheduled for the group." : "Marked complete.";
    await loadFeed(true);
  } catch (err) { fail(err); }
}

async function loadSide() {
  const day = today();
  const [bridges, stats] = await Promise.all([api("/v1/bridges"), api("/v1/stats/daily?from=" + day + "&to=" + day)]);
  $("bridges").replaceChildren(...bridges.bridges.map((b) => el("span", {
    class: "chip " + (b.stale || b.state !== "open" ? "bad" : "open"),
    title: b.agent + " · last heartbeat " + fmt(b.lastHeartbeatAt),
  }, b.session + ": " + (b.stale ? "stale" : b.state))));
  const t = stats.days.reduce((a, d) => ({ n: a.n + d.new, r: a.r + d.resubmitted, c: a.c + d.complete, i: a.i + d.incomplete }), { n: 0, r: 0, c: 0, i: 0 });
  $("today").textContent = "Today: " + t.n + " new · " + t.r + " resubmitted · " + t.c + " complete · " + t.i + " incomplete";
}

async function loadProjects() {
  const { projects } = await api("/v1/projects");
  const names = [...new Set(projects.map((p) => p.name))];
  $("f-project").replaceChildren(el("option", { value: "" }, "All projects"), ...names.map((n) => el("option", { value: n }, n)));
}

async function refresh() {
  if (!state.token) return;
  $("error").textContent = "";
  // Beyond what one request can reload, leave the list as the reviewer paged it.
  const feed = state.items.length <= 200 ? loadFeed(true) : Promise.resolve();
  try { await Promise.all([feed, loadSide()]); } catch (err) { fail(err); }
}

async function start() {
  showApp(true);
  try { await loadProjects(); } catch (err) { return fail(err); }
  await refresh();
}

$("login-form").addEventListener("submit", signIn);
$("signout").addEventListener("click", () => signOut());
$("filters").addEventListener("submit", (e) => {
  e.preventDefault();
  state.filters = { project: $("f-project").value, status: $("f-status").value, date: $("f-date").value };
  loadFeed(true).catch(fail);
});
$("more").addEventListener("click", () => loadFeed(false).catch(fail));
$("close").addEventListener("click", () => { $("detail").hidden = true; state.selected = null; state.shown = null; renderFeed(); });
$("mark-complete").addEventListener("click", () => submitReview("complete"));
$("mark-incomplete").addEventListener("click", () => submitReview("incomplete"));
$("reviewer").value = state.reviewer;
setInterval(refresh, 15000);
if (state.token) start(); else showApp(false);
`;
