// The QA dashboard: one HTML page and one script, served by the Worker. The page holds no data; the script
// calls the same JSON API as everyone else with the DASHBOARD_TOKEN the reviewer enters (kept in this
// browser's localStorage). WhatsApp text is only ever inserted as text, never as HTML.
import { QA_STEPS } from "@wa-monitor/shared";

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function dashboardHtml(timeZone: string): string {
  // JSON in a non-executed script block; "<" escaped so no text can close the tag.
  const config = JSON.stringify({ steps: QA_STEPS, timeZone }).replaceAll("<", "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wa-monitor — QA</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script id="config" type="application/json">${config}</script>
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>wa-monitor <span>QA</span></h1>
  <div id="bridges" aria-label="WhatsApp sessions"></div>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<section id="login" hidden>
  <form id="login-form">
    <h2>Sign in</h2>
    <label>Dashboard token <input id="token" type="password" autocomplete="current-password" required></label>
    <label>Your name (recorded with reviews) <input id="reviewer" autocomplete="name" required></label>
    <button type="submit">Sign in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>
<main id="app" hidden>
  <section id="list">
    <form id="filters">
      <label>Project <select id="f-project"><option value="">All projects</option></select></label>
      <label>Status <select id="f-status">
        <option value="">Any status</option><option value="new">New</option><option value="resubmitted">Resubmitted</option>
        <option value="incomplete">Incomplete</option><option value="complete">Complete</option>
      </select></label>
      <label>Day <input id="f-date" type="date"></label>
      <button type="submit">Apply</button>
    </form>
    <p id="today" class="muted"></p>
    <table id="drops">
      <thead><tr><th>Drop</th><th>Project</th><th>Status</th><th>Steps</th><th>Installer</th><th>Last posted</th><th>Feedback</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="muted" hidden>No drops match.</p>
    <button id="more" type="button" hidden>Load more</button>
    <p id="error" class="error" role="alert"></p>
  </section>
  <aside id="detail" hidden>
    <button id="close" type="button" aria-label="Close">×</button>
    <h2 id="d-title"></h2>
    <p id="d-meta" class="muted"></p>
    <form id="review">
      <fieldset id="d-steps"><legend>Photo steps</legend></fieldset>
      <label>Comment for the installer <textarea id="d-comment" rows="3" maxlength="2000"></textarea></label>
      <div class="actions">
        <button type="button" id="mark-complete">Mark complete</button>
        <button type="button" id="mark-incomplete" class="warn">Incomplete — send feedback</button>
      </div>
      <p id="d-result" role="status"></p>
    </form>
    <h3>Submissions</h3><ol id="d-submissions"></ol>
    <h3>Reviews</h3><ol id="d-reviews"></ol>
    <h3>Feedback</h3><ol id="d-feedback"></ol>
  </aside>
</main>
</body>
</html>`;
}

export const DASHBOARD_CSS = `
:root { --ink:#1d2433; --muted:#667085; --line:#e4e7ec; --ok:#167a3a; --warn:#b42318; --amber:#a86200; --accent:#2855d8; }
* { box-sizing: border-box }
[hidden] { display: none !important }
body { margin:0; font:15px/1.45 system-ui, sans-serif; color:var(--ink); background:#f8f9fb }
header { display:flex; gap:1rem; align-items:center; padding:.6rem 1.2rem; background:#fff; border-bottom:1px solid var(--line) }
header h1 { font-size:1.1rem; margin:0 } header h1 span { color:var(--accent) }
#bridges { display:flex; gap:.4rem; flex-wrap:wrap; flex:1 }
.chip { font-size:.8rem; padding:.1rem .5rem; border-radius:1rem; background:#eef2f6 }
.chip.open { background:#e7f6ec; color:var(--ok) } .chip.bad { background:#fdecea; color:var(--warn) }
main { display:flex; gap:1rem; padding:1rem 1.2rem; align-items:flex-start }
#list { flex:1; min-width:0; overflow-x:auto }
#filters { display:flex; gap:.8rem; flex-wrap:wrap; align-items:end; margin-bottom:.5rem }
label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); gap:.2rem }
input, select, textarea, button { font:inherit }
button { padding:.35rem .8rem; border:1px solid var(--line); border-radius:.4rem; background:#fff; cursor:pointer }
button.warn { background:var(--warn); color:#fff; border-color:var(--warn) }
#mark-complete { background:var(--ok); color:#fff; border-color:var(--ok) }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line) }
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); font-size:.9rem; white-space:nowrap }
tbody tr { cursor:pointer } tbody tr:hover, tbody tr.selected { background:#eef3ff }
.badge { padding:.05rem .45rem; border-radius:.3rem; font-size:.8rem; font-weight:600 }
.badge.new { background:#eef3ff; color:var(--accent) } .badge.resubmitted { background:#fff4e5; color:var(--amber) }
.badge.complete { background:#e7f6ec; color:var(--ok) } .badge.incomplete { background:#fdecea; color:var(--warn) }
.muted { color:var(--muted) } .error { color:var(--warn) }
#detail { width:26rem; background:#fff; border:1px solid var(--line); border-radius:.5rem; padding:1rem; position:sticky; top:1rem }
#detail h2 { margin:.2rem 0 } #close { float:right; border:none; font-size:1.3rem; line-height:1 }
fieldset { border:1px solid var(--line); border-radius:.4rem; display:grid; grid-template-columns:1fr 1fr; gap:.2rem .6rem }
fieldset label { flex-direction:row; align-items:center; color:var(--ink); gap:.4rem }
textarea { width:100% } .actions { display:flex; gap:.5rem; margin:.6rem 0 }
ol { padding-left:1.2rem; font-size:.85rem } li { margin-bottom:.35rem; white-space:pre-wrap }
#login { display:flex; justify-content:center; padding:3rem } #login form { background:#fff; padding:1.5rem; border:1px solid var(--line); border-radius:.5rem; display:flex; flex-direction:column; gap:.8rem; width:22rem }
`;
