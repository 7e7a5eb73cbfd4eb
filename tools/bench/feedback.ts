// Benchmark 5: claiming a backlog of due feedback with the limits opened up — 10,000 drops, each with one message
// due now, handed out through the Worker's fetch handler (GET /v1/agent/feedback) to several pollers at once, as
// agents and cron would poll, until every message is claimed. Plans of a poll's statements at that size.
import type pg from "pg";
import { runScheduled } from "../../edge-api/src/scheduled.ts";
import type { Env } from "../../edge-api/src/env.ts";
import { figure } from "./figures.ts";
import { heading, int, line, ms, secs, table, timed } from "./measure.ts";
import { AGENT_TOKEN, PROJECTS, workerClient, type Rig, type WorkerCall } from "./rig.ts";
import { loggedPlans } from "./stats.ts";

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
    INSERT INTO feedback (drop_number, group_jid, text, status, due_at, attempts, sent_at, sent_by,
                          wa_message_id, created_at, updated_at)
    SELECT d.drop_number, p.group_jid, 'QA: ' || d.drop_number || ' (earlier)', 'sent', t.at, 1, t.at, $2,
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

/** The claimed messages pending again and their slots gone, as before the case. */
async function putBack(sql: pg.Client): Promise<void> {
  await sql.query("UPDATE feedback SET status = 'pending', claimed_until = NULL, attempts = 0 WHERE status = 'claimed'");
  await sql.query("DELETE FROM feedback_ledger WHERE taken_at > now() - interval '1 day'");
  await sql.query("VACUUM (ANALYZE) feedback, feedback_ledger");
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
  await putBack(sql);
}

/**
 * The plans a poll's statements got over the whole backlog, with their real parameters (auto_explain): the first
 * poll with the limits opened up, and a poll under the limits as shipped with this minute's slots taken (the
 * steady state while a backlog drains). The claimed messages are put back after each.
 */
async function explainPolls(rig: Rig, sql: pg.Client, dbName: string, env: Env, limit: number): Promise<void> {
  const keep = /duration:|\(cost=|Filter:|Index Cond:|Buffers:/;
  const show = async (title: string, call: WorkerCall) => {
    const plans = await loggedPlans(rig, sql, dbName, () => call("GET", `/v1/agent/feedback?limit=${limit}`, { token: AGENT_TOKEN }), keep);
    line();
    line(`${title}:`);
    for (const p of plans.length ? plans : ["(no plan logged)"]) line(`  ${p}`);
    await putBack(sql);
  };
  await show(`the first poll over all ${int(FEEDBACK_BACKLOG)} due, limits opened up (?limit=${limit})`, workerClient(env));
  const shipped = Object.fromEntries(Object.entries(env).filter(([k]) => !(k in OPEN_LIMITS))) as Env;
  await sql.query(
    `INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
     SELECT $1, id, drop_number, now() - interval '10 seconds' FROM feedback WHERE status = 'pending' ORDER BY id LIMIT 2`,
    [SENDER],
  );
  await show(`a poll under the shipped limits with this minute's 2 slots taken (?limit=${limit})`, workerClient(shipped));
  await sql.query("DELETE FROM feedback_ledger WHERE taken_at > now() - interval '1 day'");
}

/**
 * The figure's case comes first: pollers asking for the contract's 500 per poll. The agent itself asks for at
 * most 50 (what it can send within a lease), so that case is shown beside it.
 */
export async function benchFeedback(rig: Rig, sql: pg.Client, dbName: string, call: WorkerCall, env: Env, cases: ClaimCase[]): Promise<void> {
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

  heading("5b. Plans of a poll's statements over that backlog (auto_explain, ANALYZE, BUFFERS)");
  await explainPolls(rig, sql, dbName, env, cases[0]!.limit);
}
