// Benchmark 2: the dashboard's reads (feed, one drop; daily stats in stats.ts) through the Worker's fetch handler, over a
// database seeded with SQL to production-like size.
import { QA_STEP_KEYS } from "@wa-monitor/shared";
import type pg from "pg";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, TIMEZONE, type Rig, type WorkerCall } from "./rig.ts";
import { figure } from "./figures.ts";
import { heading, int, LATENCY_HEADERS, latencyRow, line, ms, sample, secs, sleep, summarize, table, timed } from "./measure.ts";
import { seedReviewsAndRollup } from "./stats.ts";

const DAY_MS = 86_400_000;

// Statuses by share of drops: most are waiting for QA, a tenth came back, the rest are reviewed. Projects differ
// in size, as in the field: the test group (SMALL_PROJECT) gets one drop in a thousand, the rollouts share the rest.
const SMALL_PROJECT = PROJECTS[1]!.name;
const SEED_DROPS = /* sql */ `
  INSERT INTO drops (drop_number, project_id, status, resubmitted, first_submitted_at, last_submitted_at,
                     submission_count, ${QA_STEP_KEYS.join(", ")}, comment, reviewer, reviewed_at, created_at,
                     updated_at)
  SELECT 'DR' || lpad(g.i::text, 8, '0'), CASE WHEN g.i % 1000 = 0 THEN p.small ELSE p.ids[1 + g.i % p.n] END,
         g.status, g.status = 'resubmitted',
         g.first_at, g.last_at, CASE WHEN g.status = 'resubmitted' THEN 2 ELSE 1 END,
         ${QA_STEP_KEYS.map(() => "g.status = 'complete' OR (g.status = 'incomplete' AND random() < 0.7)").join(",\n         ")},
         CASE WHEN g.status = 'resubmitted'
              THEN 'Resubmitted ' || to_char(g.last_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI') END,
         CASE WHEN g.reviewed THEN 'qa.bench' END,
         CASE WHEN g.reviewed THEN least(now(), g.last_at + g.r3 * interval '2 days') END,
         g.first_at, g.last_at
  FROM (
    SELECT r.i, s.status, s.status IN ('complete', 'incomplete') AS reviewed, r.first_at, r.r3,
           least(now(), r.first_at + CASE WHEN s.status = 'resubmitted' THEN r.r2 * interval '3 days'
                                          ELSE interval '0' END) AS last_at
    FROM (
      -- OFFSET 0 keeps this subquery from being flattened, so each random() is drawn once per row.
      SELECT i, random() AS r1, random() AS r2, random() AS r3, now() - random() * interval '90 days' AS first_at
      FROM generate_series(1, $1::int) AS i
      OFFSET 0
    ) r
    CROSS JOIN LATERAL (
      SELECT CASE WHEN r.r1 < 0.45 THEN 'new' WHEN r.r1 < 0.55 THEN 'resubmitted'
                  WHEN r.r1 < 0.80 THEN 'complete' ELSE 'incomplete' END AS status
    ) s
  ) g,
  (SELECT array_agg(id ORDER BY id) FILTER (WHERE name <> $3) AS ids, count(*) FILTER (WHERE name <> $3)::int AS n,
          min(id) FILTER (WHERE name = $3) AS small
   FROM projects) p`;

// One submission per drop at its first activity; resubmitted drops get the second one that brought them back.
const SEED_SUBMISSIONS = /* sql */ `
  INSERT INTO submissions (drop_number, project_id, chat_jid, message_id, session, sender_jid, sender_phone,
                           sender_name, text, sent_at, received_at, is_resubmission)
  SELECT d.drop_number, d.project_id, p.group_jid, '3EB0SEED' || v.k || d.drop_number,
         (ARRAY['primary', 'backup'])[1 + h.n % 2],
         '2782' || lpad(h.n::text, 7, '0') || '@s.whatsapp.net', '+2782' || lpad(h.n::text, 7, '0'),
         (ARRAY['Thabo', 'Sipho', 'Lerato', 'Naledi', 'Bongani', 'Zanele'])[1 + h.n % 6],
         d.drop_number || ' done, photos posted', v.at, v.at + interval '2 seconds', v.k = 2
  FROM drops d
  JOIN projects p ON p.id = d.project_id
  CROSS JOIN LATERAL (SELECT abs(hashtext(d.drop_number)) % 500 AS n) h
  CROSS JOIN LATERAL (VALUES (1, d.first_submitted_at), (2, d.last_submitted_at)) v(k, at)
  WHERE v.k = 1 OR d.resubmitted`;

export interface ReadOptions {
  drops: number;
  runs: number;
  pages: number;
}

/** Bulk rows straight into Postgres: the benchmark is about reading them, not about how they got there. */
export async function seedDrops(sql: pg.Client, call: WorkerCall, drops: number): Promise<void> {
  await call("PUT", "/v1/agent/projects", { token: AGENT_TOKEN, json: { projects: PROJECTS } });
  // The deferred FK check would queue a trigger event per submission; the rows are consistent by construction.
  await sql.query("SET session_replication_role = replica");
  await sql.query("SET maintenance_work_mem = '256MB'");
  const d = await timed(() => sql.query(SEED_DROPS, [drops, TIMEZONE, SMALL_PROJECT]));
  const s = await timed(() => sql.query(SEED_SUBMISSIONS));
  await sql.query("RESET session_replication_role");
  // VACUUM as well as ANALYZE: otherwise autovacuum would take on the fresh million rows mid-measurement.
  const v = await timed(() => sql.query("VACUUM (ANALYZE) drops, submissions"));
  const { rows } = await sql.query<{ drops: string; subs: string; size: string }>(
    `SELECT (SELECT count(*) FROM drops) AS drops, (SELECT count(*) FROM submissions) AS subs,
            pg_size_pretty(pg_database_size(current_database())) AS size`,
  );
  const r = rows[0]!;
  line(
    `seeded ${int(Number(r.drops))} drops (${secs(d.ms)}) and ${int(Number(r.subs))} submissions (${secs(s.ms)}), ` +
      `VACUUM ANALYZE ${secs(v.ms)}; database ${r.size}; activity spread over 90 days, 4 projects`,
  );
  await seedReviewsAndRollup(sql);
}

/** YYYY-MM-DD of an instant in the teams' time zone. */
const localDate = (t: number) => new Intl.DateTimeFormat("en-CA", { timeZone: TIMEZONE }).format(new Date(t));

type Page = { items: { dropNumber: string }[]; nextCursor: string | null };

async function feedPage(call: WorkerCall, query: string): Promise<Page> {
  return (await call<Page>("GET", `/v1/drops?${query}`, { token: DASHBOARD_TOKEN })).body;
}

/** Follows nextCursor `pages` times, timing each page; returns the cursor of the page after the last. */
async function walkPages(call: WorkerCall, pages: number): Promise<{ times: number[]; cursor: string }> {
  let cursor: string | null = null;
  const times: number[] = [];
  for (let i = 0; i < pages; i++) {
    const q: string = `limit=50${cursor ? `&cursor=${cursor}` : ""}`;
    const { value, ms } = await timed(() => feedPage(call, q));
    if (i > 0) times.push(ms); // page 1 is measured on its own below
    cursor = value.nextCursor;
    if (!cursor) throw new Error(`the feed ran out after ${i + 1} pages; seed more drops`);
  }
  return { times, cursor: cursor! };
}

interface Case {
  what: string;
  /** Which figure its samples count towards: every feed filter and page together, or one drop. */
  kind: "feed" | "detail";
  run: () => Promise<unknown>;
  note: string;
  explain?: boolean;
}

function cases(call: WorkerCall, opts: ReadOptions, deepCursor: string): Case[] {
  const now = Date.now();
  const day = localDate(now - 10 * DAY_MS);
  const feed = (what: string, q: string, minItems: number, note = ""): Case => ({
    what,
    kind: "feed",
    run: async () => {
      const page = await feedPage(call, q);
      if (page.items.length < minItems) throw new Error(`GET /v1/drops?${q} gave only ${page.items.length} items`);
    },
    note,
    explain: true,
  });
  const randomDrop = () => `DR${String(1 + Math.floor(Math.random() * opts.drops)).padStart(8, "0")}`;
  return [
    feed("GET /v1/drops?limit=50 (first page)", "limit=50", 50),
    feed(`GET /v1/drops page ${opts.pages + 1} (cursor)`, `limit=50&cursor=${deepCursor}`, 50, `${opts.pages * 50} rows deep`),
    feed("GET /v1/drops?project=Lawley", "limit=50&project=Lawley", 50),
    feed("GET /v1/drops?status=incomplete", "limit=50&status=incomplete", 50),
    feed("GET /v1/drops?project=Lawley&status=incomplete", "limit=50&project=Lawley&status=incomplete", 50),
    feed(`GET /v1/drops?project=${SMALL_PROJECT}&status=incomplete`, `limit=50&project=${encodeURIComponent(SMALL_PROJECT)}&status=incomplete`, 1, "0.1% of drops"),
    feed(`GET /v1/drops?date=${day}`, `limit=50&date=${day}`, 1, "one local day"),
    {
      what: "GET /v1/drops/:dropNumber",
      kind: "detail",
      run: () => call("GET", `/v1/drops/${randomDrop()}`, { token: DASHBOARD_TOKEN }),
      note: "random drop each run",
    },
  ];
}

export interface ReadSamples {
  /** Every feed request: each filter, the deep cursor page and the cursor walk, pooled. */
  feed: number[];
  detail: number[];
  /** One latency row per case, for the table. */
  rows: string[][];
  cases: Case[];
}

/**
 * Times the dashboard's reads through `call` — the Worker in-process, or served (`httpClient` against wrangler
 * dev) — over a database already seeded with `drops` drops.
 */
export async function measureReads(call: WorkerCall, opts: ReadOptions): Promise<ReadSamples> {
  const walk = await walkPages(call, opts.pages);
  const list = cases(call, opts, walk.cursor);
  const out: ReadSamples = { feed: [...walk.times], detail: [], rows: [], cases: list };
  for (const c of list) {
    const times = await sample(opts.runs, c.run);
    out[c.kind].push(...times);
    out.rows.push(latencyRow(c.what, times, c.note));
  }
  out.rows.splice(1, 0, latencyRow(`GET /v1/drops, nextCursor pages 2..${opts.pages}`, walk.times, "one walk, each page once"));
  return out;
}

/** The feed and drop-detail figures of a measureReads run. */
export function readFigures(s: ReadSamples, drops: number, where: string): void {
  const p95 = (xs: number[]) => summarize(xs).p95;
  figure(`feed p95 at ${int(drops)} drops, all filters and cursor pages (${where})`, p95(s.feed), "ms", "<= 50",
    `${s.feed.length} requests, median ${ms(summarize(s.feed).median)} ms`);
  figure(`drop detail p95 at ${int(drops)} drops (${where})`, p95(s.detail), "ms", "<= 50",
    `${s.detail.length} random drops, median ${ms(summarize(s.detail).median)} ms`);
}

/** Plan lines of a query, condensed to node, index and actual rows/time. */
function planSummary(logLines: string[]): string[] {
  return logLines
    .map((l) => l.replace(/^\[STDERR\]\s?/, ""))
    .filter((l) => l.includes("(cost="))
    .map((l) => {
      const actual = /\(actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)\)/.exec(l);
      const node = l.replace(/\s*\(cost=.*$/, "").replace(/^\t/, "");
      return actual ? `${node}  [rows=${actual[2]} loops=${actual[3]} ${actual[1]} ms]` : node;
    });
}

/**
 * The plans the Worker's own queries got, with their real parameters: auto_explain is switched on for new
 * sessions of the database (each Worker request opens one), the request is made once, the plan is read from
 * the server log.
 */
async function explainCases(rig: Rig, sql: pg.Client, dbName: string, list: Case[]): Promise<void> {
  await sql.query("LOAD 'auto_explain'");
  const settings = ["session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0", "auto_explain.log_analyze = on"];
  for (const s of settings) await sql.query(`ALTER DATABASE "${dbName}" SET ${s}`);
  try {
    for (const c of list) {
      rig.drainServerLog();
      await c.run();
      await sleep(300); // the plan reaches us through the server's stderr pipe
      const plan = planSummary(rig.drainServerLog());
      line();
      line(`${c.what}:`);
      for (const p of plan.length ? plan : ["(no plan logged)"]) line(`    ${p}`);
    }
  } finally {
    await sql.query(`ALTER DATABASE "${dbName}" RESET ALL`);
  }
}

export async function benchFeed(rig: Rig, sql: pg.Client, dbName: string, call: WorkerCall, opts: ReadOptions): Promise<void> {
  heading(`2. Feed and stats at scale: ${int(opts.drops)} drops, Worker fetch in-process`);
  await seedDrops(sql, call, opts.drops);

  const reads = await measureReads(call, opts);
  line();
  table(LATENCY_HEADERS, reads.rows);
  line();
  line(`every request opens its own Neon connection (WebSocket → proxy → Postgres, ${rig.auth === "password" ? "pipelined password login as on Neon" : "SCRAM login"}), as a Worker does`);
  readFigures(reads, opts.drops, "Worker in-process");

  heading("2b. Query plans of the Worker's queries (auto_explain, ANALYZE; node [actual rows, loops, ms])");
  await explainCases(rig, sql, dbName, reads.cases.filter((c) => c.explain));
}
