// Daily stats at scale: reviews seeded to match the seeded drops, the rollup built from them the way migration
// 0007 backfills it, then GET /v1/stats/daily through the Worker's fetch handler; and ingest into that
// database, so the rollup's upkeep is measured where the tables are large.
import { QA_STEP_KEYS } from "@wa-monitor/shared";
import type pg from "pg";
import { figure } from "./figures.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, TIMEZONE, type Rig, type WorkerCall } from "./rig.ts";
import { heading, int, LATENCY_HEADERS, latencyRow, line, sample, secs, sleep, summarize, table, timed } from "./measure.ts";

const DAY_MS = 86_400_000;

const STEPS = `jsonb_build_object(${QA_STEP_KEYS.map((k) => `'${k}', d.${k}`).join(", ")})`;

// The reviews behind the seeded drops' states (tools/bench/feed.ts): a reviewed drop got its status from a review
// at reviewed_at; a resubmitted drop was found incomplete between its two posts; and a fifth of the complete
// drops were found incomplete three hours before (the same local day or the one before), so the last review of
// a day has to win.
const SEED_REVIEWS = /* sql */ `
  INSERT INTO reviews (drop_number, status, steps, comment, reviewer, created_at)
  SELECT d.drop_number, v.status, ${STEPS}, NULL, 'qa.bench', v.at
  FROM drops d
  CROSS JOIN LATERAL (VALUES
    (1, d.status, d.reviewed_at),
    (2, 'incomplete', d.first_submitted_at + (d.last_submitted_at - d.first_submitted_at) / 2),
    (3, 'incomplete', d.reviewed_at - interval '3 hours')
  ) AS v (k, status, at)
  WHERE (v.k = 1 AND d.reviewed_at IS NOT NULL)
     OR (v.k = 2 AND d.status = 'resubmitted')
     OR (v.k = 3 AND d.status = 'complete' AND abs(hashtext(d.drop_number)) % 5 = 0
         AND d.reviewed_at - interval '3 hours' > d.last_submitted_at)`;

/** After the drops and submissions are seeded: their reviews, then the rollup, built as migration 0007 does. */
export async function seedReviewsAndRollup(sql: pg.Client): Promise<void> {
  // The FK check would queue a trigger event per review; the rows are consistent by construction.
  await sql.query("SET session_replication_role = replica");
  const r = await timed(() => sql.query(SEED_REVIEWS));
  await sql.query("RESET session_replication_role");
  await sql.query("VACUUM (ANALYZE) reviews");
  const b = await timed(() => sql.query<{ n: number }>("SELECT rebuild_daily_stats($1) AS n", [TIMEZONE]));
  await sql.query("VACUUM (ANALYZE) daily_stats, daily_stats_zone");
  line(
    `seeded ${int(r.value.rowCount ?? 0)} reviews (${secs(r.ms)}); daily stats rollup rebuilt from all records in ` +
      `${secs(b.ms)} (${int(b.value.rows[0]!.n)} day × project rows) — what migration 0007 costs at this size`,
  );
}

/** YYYY-MM-DD of an instant in the teams' time zone. */
const localDate = (t: number) => new Intl.DateTimeFormat("en-CA", { timeZone: TIMEZONE }).format(new Date(t));

/** Plan lines auto_explain logged for the Worker's statements of one request, condensed. */
export async function loggedPlans(rig: Rig, sql: pg.Client, dbName: string, request: () => Promise<unknown>, keep: RegExp): Promise<string[]> {
  const settings = ["session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0", "auto_explain.log_analyze = on", "auto_explain.log_buffers = on"];
  for (const s of settings) await sql.query(`ALTER DATABASE "${dbName}" SET ${s}`);
  try {
    rig.drainServerLog();
    await request();
    await sleep(300); // the plans reach us through the server's stderr pipe
  } finally {
    await sql.query(`ALTER DATABASE "${dbName}" RESET ALL`);
  }
  return rig
    .drainServerLog()
    .map((l) => l.replace(/^\[STDERR\]\s?/, ""))
    .filter((l) => keep.test(l))
    .map((l) => l.replace(/^.*LOG: {2}/, "").replace(/\s*\(cost=[^)]*\)/, "").replace(/^\t/, ""));
}

export interface StatsOptions {
  drops: number;
  runs: number;
}

export async function benchDailyStats(rig: Rig, sql: pg.Client, dbName: string, call: WorkerCall, opts: StatsOptions): Promise<void> {
  heading(`2c. Daily stats from the rollup: ${int(opts.drops)} drops, Worker fetch in-process`);
  const now = Date.now();
  const stats = (days: number) => {
    const from = localDate(now - (days - 1) * DAY_MS);
    const to = localDate(now);
    return { what: `GET /v1/stats/daily (${days} day${days > 1 ? "s" : ""})`, note: `${from}..${to}`, run: () => call("GET", `/v1/stats/daily?from=${from}&to=${to}`, { token: DASHBOARD_TOKEN }) };
  };
  const month = stats(30);
  const rows: string[][] = [];
  let monthSamples: number[] = [];
  for (const c of [stats(1), month, stats(90), stats(366)]) {
    const samples = await sample(opts.runs, c.run);
    if (c === month) monthSamples = samples;
    rows.push(latencyRow(c.what, samples, c.note));
  }
  table(LATENCY_HEADERS, rows);
  const p95 = summarize(monthSamples).p95;
  const { body } = await month.run();
  figure("daily stats p95 at 1 M drops", p95, "ms", "<= 50", `30 days, ${opts.runs} runs, ${int(opts.drops)} drops seeded with their reviews; ${body.days.length} rows`);
  line();
  line(`${month.what}, the Worker's statement (auto_explain, ANALYZE):`);
  for (const p of await loggedPlans(rig, sql, dbName, month.run, /duration|actual time/)) line(`    ${p}`);
}

// At least 5 s in the past: WhatsApp times are whole seconds, so a drop the agent delivers right after this must
// still sort newest in the feed.
function submission(n: number, salt: string, dropNumber: string) {
  const project = PROJECTS[n % PROJECTS.length]!;
  return {
    messageId: `3EB0${salt}${String(n).padStart(12, "0")}`,
    chatJid: project.groupJid,
    dropNumber,
    session: "primary",
    senderJid: "27821234567@s.whatsapp.net",
    senderPhone: "+27821234567",
    senderName: "Thabo",
    text: `${dropNumber} done, all photos posted`,
    sentAt: new Date(Date.now() - 65_000 + (n % 60_000)).toISOString(),
  };
}

async function post(call: WorkerCall, items: ReturnType<typeof submission>[], expect: string): Promise<void> {
  const { body } = await call<{ results: { status: string }[] }>("POST", "/v1/agent/drops", { token: AGENT_TOKEN, json: { submissions: items } });
  const wrong = body.results.filter((r) => r.status !== expect);
  if (wrong.length) throw new Error(`expected ${expect} for every item, got ${wrong[0]!.status} (${wrong.length} items)`);
}

/** Ingest where the tables are large: new drops past the seeded ones, and resubmissions of seeded drops spread
 * over the whole table (cold pages, as old drops coming back are). Printed, not a figure: the figure is
 * section 1's, on the database the agent starts with. */
export async function benchIngestAtScale(rig: Rig, sql: pg.Client, dbName: string, call: WorkerCall, opts: { drops: number; batches: number }): Promise<void> {
  heading(`2d. Edge ingest into the ${int(opts.drops)}-drop database (rollup kept up to date), batches of 500`);
  const BATCH = 500;
  const fresh = (b: number) => Array.from({ length: BATCH }, (_, k) => {
    const n = opts.drops + 1 + b * BATCH + k;
    return submission(n, "N", `DR${String(n).padStart(8, "0")}`);
  });
  // Seeded drops are DR00000001..: a stride through all of them.
  const stride = Math.max(1, Math.floor(opts.drops / BATCH) - 1);
  const resubmitted = (b: number) => Array.from({ length: BATCH }, (_, k) => {
    const n = 1 + ((b + k * stride) % opts.drops);
    return submission(n, `S${b}`, `DR${String(n).padStart(8, "0")}`);
  });
  const created: number[] = [];
  const wall = await timed(async () => {
    for (let b = 0; b < opts.batches; b++) created.push((await timed(() => post(call, fresh(b), "new"))).ms);
  });
  const again: number[] = [];
  for (let b = 0; b < opts.batches; b++) again.push((await timed(() => post(call, resubmitted(b), "resubmission"))).ms);
  const dup = await sample(opts.batches, () => post(call, fresh(0), "duplicate"), 0);
  table(LATENCY_HEADERS, [
    latencyRow("batch of 500 new drops", created),
    latencyRow("batch of 500 exact duplicates", dup),
    latencyRow("batch of 500 resubmissions of seeded drops", again, "spread over the table"),
  ]);
  line();
  line(`throughput: ${int((opts.batches * BATCH) / (wall.ms / 1000))} new drops/s; resubmissions ${int(BATCH / (summarize(again).median / 1000))}/s, duplicates ${int(BATCH / (summarize(dup).median / 1000))}/s (by median batch)`);
  line();
  line("the two ingest statements of one batch of resubmissions (auto_explain, ANALYZE; scans and writes only):");
  const plans = await loggedPlans(rig, sql, dbName, () => post(call, resubmitted(opts.batches), "resubmission"), /duration: [1-9]|(Insert|Update) on|Scan (using \S+ )?on (drops|submissions|daily_stats) [a-w]|Trigger for/);
  for (const p of plans) line(`    ${p}`);
}
