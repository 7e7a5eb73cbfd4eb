// Benchmark 5: claiming a backlog of due feedback with the limits opened up — 10,000 drops, each with one message
// due now, handed out through the Worker's fetch handler (GET /v1/agent/feedback) to several pollers at once, as
// agents and cron would poll, until every message is claimed. Plans of the hand-out's statements at that size.
import type pg from "pg";
import { HAND_OUT_SQL } from "../../edge-api/src/feedback/schedule.ts";
import { runScheduled } from "../../edge-api/src/scheduled.ts";
import type { Env } from "../../edge-api/src/env.ts";
import { figure } from "./figures.ts";
import { heading, int, line, ms, secs, table, timed } from "./measure.ts";
import { AGENT_TOKEN, PROJECTS, type WorkerCall } from "./rig.ts";

export const FEEDBACK_BACKLOG = 10_000;

/** The limits opened up: room for the whole backlog at once, no quiet period per drop. */
export const OPEN_LIMITS: Partial<Env> = {
  FEEDBACK_PER_MINUTE: "1000000",
  FEEDBACK_PER_HOUR: "1000000",
  FEEDBACK_PER_DAY: "1000000",
  FEEDBACK_SAME_DROP_SECONDS: "0",
};
const SENDER = "sender";

export interface ClaimCase {
  /** Polls in flight at once. */
  pollers: number;
  /** ?limit= of each poll. */
  limit: number;
}

// 10,000 reviewed-incomplete drops with one message each due a minute ago, beside 90 days of history: 40,000
// messages already sent with their ledger slots (a sent message per drop and day, older than a day).
const SEED = /* sql */ `
  WITH p AS (SELECT id, group_jid FROM projects ORDER BY id LIMIT 1),
  d AS (
    INSERT INTO drops (drop_number, project_id, status, first_submitted_at, last_submitted_at, reviewer, reviewed_at)
    SELECT 'DR7' || lpad(i::text, 7, '0'), p.id, 'incomplete', now() - interval '2 days', now() - interval '2 days',
           'qa.bench', now() - interval '1 hour'
    FROM generate_series(1, $1::int) i, p
    RETURNING drop_number
  ),
  hist AS (
    INSERT INTO feedback (drop_number, group_jid, text, status, due_at, ready_at, attempts, sent_at, sent_by,
                          wa_message_id, created_at, updated_at)
    SELECT d.drop_number, p.group_jid, 'QA: ' || d.drop_number || ' (earlier)', 'sent', t.at, t.at, 1, t.at, $2,
           '3EB0HIST' || k || d.drop_number, t.at, t.at
    FROM d, p, generate_series(1, 4) k, LATERAL (SELECT now() - (2 + k * 20) * interval '1 day' AS at) t
    RETURNING id, drop_number, sent_at
  ),
  ledger AS (
    INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
    SELECT $2, id, drop_number, sent_at FROM hist
  )
  INSERT INTO feedback (drop_number, group_jid, text, due_at)
  SELECT d.drop_number, p.group_jid, 'QA: ' || d.drop_number || ' is missing the ONT barcode', now() - interval '1 minute'
  FROM d, p`;

async function seed(sql: pg.Client, call: WorkerCall): Promise<void> {
  await call("PUT", "/v1/agent/projects", { token: AGENT_TOKEN, json: { projects: PROJECTS } });
  await sql.query(SEED, [FEEDBACK_BACKLOG, SENDER]);
  await sql.query("VACUUM (ANALYZE) drops, feedback, feedback_ledger");
}

/** Pollers claim until the backlog is gone, with a cron run among them; returns each poll's claimed ids. */
async function claimAll(call: WorkerCall, env: Env, c: ClaimCase) {
  const polls: { ms: number; ids: string[] }[] = [];
  let claimed = 0;
  const poller = async () => {
    while (claimed < FEEDBACK_BACKLOG) {
      const { value, ms } = await timed(() => call<{ messages: { id: string }[] }>("GET", `/v1/agent/feedback?limit=${c.limit}`, { token: AGENT_TOKEN }));
      const ids = value.body.messages.map((m) => m.id);
      polls.push({ ms, ids });
      claimed += ids.length;
      if (!ids.length && claimed < FEEDBACK_BACKLOG) throw new Error(`a poll found nothing with ${FEEDBACK_BACKLOG - claimed} messages unclaimed`);
    }
  };
  const total = await timed(() => Promise.all([runScheduled(env), ...Array.from({ length: c.pollers }, poller)]));
  return { ms: total.ms, polls };
}

/** Every message claimed exactly once, one slot each; then the backlog is put back for the next case. */
async function checkAndReset(sql: pg.Client, ids: string[]): Promise<void> {
  const { rows } = await sql.query<{ claimed: string; slots: string }>(
    `SELECT (SELECT count(*) FROM feedback WHERE status = 'claimed') AS claimed,
            (SELECT count(*) FROM feedback_ledger WHERE taken_at > now() - interval '1 day') AS slots`,
  );
  const distinct = new Set(ids).size;
  const { claimed, slots } = rows[0]!;
  if (ids.length !== FEEDBACK_BACKLOG || distinct !== FEEDBACK_BACKLOG || Number(claimed) !== FEEDBACK_BACKLOG || Number(slots) !== FEEDBACK_BACKLOG) {
    throw new Error(`handed out ${ids.length} (${distinct} distinct), ${claimed} claimed, ${slots} slots: expected ${FEEDBACK_BACKLOG} each`);
  }
  await sql.query("UPDATE feedback SET status = 'pending', claimed_until = NULL, attempts = 0, ready_at = NULL WHERE status = 'claimed'");
  await sql.query("DELETE FROM feedback_ledger WHERE taken_at > now() - interval '1 day'");
  await sql.query("VACUUM (ANALYZE) feedback, feedback_ledger");
}

/** EXPLAIN (ANALYZE, BUFFERS) of one poll's statements on the seeded backlog, rolled back. */
async function explainHandOut(sql: pg.Client, limit: number): Promise<void> {
  const now = new Date();
  const plan = async (name: string, text: string, params: unknown[]) => {
    const { rows } = await sql.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, params);
    line();
    line(`${name}:`);
    for (const r of rows) line(`  ${r["QUERY PLAN"]}`);
  };
  await sql.query("BEGIN");
  try {
    // $1 now, $2 sender, $3–$5 the limits (opened up), $6 same-drop seconds, then the statement's own.
    const common = [now, SENDER, 1e6, 1e6, 1e6, 0];
    await plan(`RELEASE_AND_PROMOTE (the first poll: all ${int(FEEDBACK_BACKLOG)} due)`, HAND_OUT_SQL.RELEASE_AND_PROMOTE, [...common, 3]);
    await plan(`CLAIM (limit ${limit})`, HAND_OUT_SQL.CLAIM, [...common, limit, 120]);
    await plan("RELEASE_AND_PROMOTE (a later poll: nothing left to promote)", HAND_OUT_SQL.RELEASE_AND_PROMOTE, [...common, 3]);
  } finally {
    await sql.query("ROLLBACK");
  }
}

/**
 * The figure's case comes first: pollers asking for the contract's 500 per poll. The agent itself asks for at
 * most 50 (what it can send within a lease), so that case is shown beside it.
 */
export async function benchFeedback(sql: pg.Client, call: WorkerCall, env: Env, cases: ClaimCase[]): Promise<void> {
  heading(`5. Feedback: claiming ${int(FEEDBACK_BACKLOG)} due messages, limits opened up, Worker fetch in-process`);
  const s = await timed(() => seed(sql, call));
  line(`seeded ${int(FEEDBACK_BACKLOG)} drops, each with one message due now, beside 40,000 sent ones (${secs(s.ms)})`);

  const rows: string[][] = [];
  const totals: number[] = [];
  for (const c of cases) {
    const run = await claimAll(call, env, c);
    await checkAndReset(sql, run.polls.flatMap((p) => p.ids));
    const times = run.polls.map((p) => p.ms).sort((a, b) => a - b);
    totals.push(run.ms);
    rows.push([String(c.pollers), String(c.limit), String(run.polls.length), secs(run.ms), ms(times[Math.floor(times.length / 2)]!), ms(times.at(-1)!)]);
  }
  table(["pollers (+1 cron run)", "?limit=", "polls", "all claimed after", "poll median ms", "poll max ms"], rows);
  line("every message handed out exactly once, one ledger slot each (checked after each case)");
  figure(
    "claim of 10,000 due feedback",
    totals[0]! / 1000,
    "s",
    "<= 2",
    `${cases[0]!.pollers} pollers asking ?limit=${cases[0]!.limit} and a cron run; ${rows[0]![2]} polls`,
  );

  heading("5b. Plans of one hand-out's statements over that backlog (EXPLAIN ANALYZE, rolled back)");
  await explainHandOut(sql, cases[0]!.limit);
}
