// The daily stats rollup against a recount from scratch. RECOUNT is the definition issue 7 gave the numbers (the
// query GET /v1/stats/daily ran before the rollup existed): the rollup, kept by ingest and reviews as they happen,
// concurrently, must always answer exactly what it answers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { query, sqlClient } from "../../tools/test/db.ts";
import { migrate } from "../../tools/migrate.ts";
import { rebuildDailyStats } from "../../tools/stats-rollup.ts";
import { openDb, type Queryable } from "../src/db/client.ts";
import { reviewDrop } from "../src/db/reviews.ts";
import { loadConfig } from "../src/env.ts";
import { ApiError } from "../src/errors.ts";
import { DASHBOARD_TOKEN, edgeHarness, PROJECTS, type Edge } from "./harness.ts";

const RECOUNT = /* sql */ `
  WITH bounds AS (
    SELECT ($1::date)::timestamp AT TIME ZONE $3 AS lo, ($2::date + 1)::timestamp AT TIME ZONE $3 AS hi
  ),
  last_review AS (
    SELECT DISTINCT ON (r.drop_number, (r.created_at AT TIME ZONE $3)::date)
           r.drop_number, (r.created_at AT TIME ZONE $3)::date AS day, r.status
    FROM reviews r, bounds b
    WHERE r.created_at >= b.lo AND r.created_at < b.hi
    ORDER BY r.drop_number, (r.created_at AT TIME ZONE $3)::date, r.created_at DESC, r.id DESC
  ),
  counts AS (
    SELECT (d.first_submitted_at AT TIME ZONE $3)::date AS day, d.project_id,
           count(*) AS n_new, 0 AS n_resubmitted, 0 AS n_complete, 0 AS n_incomplete
    FROM drops d, bounds b
    WHERE d.first_submitted_at >= b.lo AND d.first_submitted_at < b.hi
    GROUP BY 1, 2
    UNION ALL
    SELECT (s.sent_at AT TIME ZONE $3)::date, s.project_id, 0, count(DISTINCT s.drop_number), 0, 0
    FROM submissions s, bounds b
    WHERE s.is_resubmission AND s.sent_at >= b.lo AND s.sent_at < b.hi
    GROUP BY 1, 2
    UNION ALL
    SELECT l.day, d.project_id, 0, 0,
           count(*) FILTER (WHERE l.status = 'complete'), count(*) FILTER (WHERE l.status = 'incomplete')
    FROM last_review l JOIN drops d ON d.drop_number = l.drop_number
    GROUP BY 1, 2
  )
  SELECT to_char(c.day, 'YYYY-MM-DD') AS date, p.name AS project,
         sum(n_new)::int AS new, sum(n_resubmitted)::int AS resubmitted,
         sum(n_complete)::int AS complete, sum(n_incomplete)::int AS incomplete
  FROM counts c JOIN projects p ON p.id = c.project_id
  GROUP BY c.day, p.name
  ORDER BY c.day, p.name`;

const ZONE = "Africa/Johannesburg";
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** YYYY-MM-DD of an instant in a zone. */
const localDate = (t: number, zone = ZONE) => new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date(t));

// Everything happens within four local days around now (so reviews made through the Worker, which stamps them
// with the real clock, fall in the same days), with many instants close to a local midnight (22:00Z).
const NOW = Date.now();
const FIRST_MIDNIGHT = Date.UTC(new Date(NOW).getUTCFullYear(), new Date(NOW).getUTCMonth(), new Date(NOW).getUTCDate() - 2, 22);
const RANGE = { from: localDate(FIRST_MIDNIGHT - 2 * 24 * HOUR), to: localDate(FIRST_MIDNIGHT + 3 * 24 * HOUR) };

const instant = fc.oneof(
  fc.record({ night: fc.integer({ min: 0, max: 2 }), minutes: fc.integer({ min: -90, max: 90 }) })
    .map(({ night, minutes }) => FIRST_MIDNIGHT + night * 24 * HOUR + minutes * MINUTE),
  fc.integer({ min: -24 * 60, max: 3 * 24 * 60 }).map((m) => FIRST_MIDNIGHT + m * MINUTE),
);

/** A WhatsApp message: its group and time are its own; the items of a batch name a message and a drop. */
const message = fc.record({ project: fc.integer({ min: 0, max: 2 }), at: instant });

type Op =
  | { kind: "ingest"; items: { message: number; drop: number }[] }
  | { kind: "review"; drop: number; status: "complete" | "incomplete"; at: number }
  | { kind: "reviewNow"; drop: number; status: "complete" | "incomplete" }
  | { kind: "rebuild" };

const DROPS = 5;
const MESSAGES = 10;
const status = fc.constantFrom("complete" as const, "incomplete" as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("ingest" as const), items: fc.array(fc.record({ message: fc.nat(MESSAGES - 1), drop: fc.nat(DROPS - 1) }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("review" as const), drop: fc.nat(DROPS - 1), status, at: instant }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reviewNow" as const), drop: fc.nat(DROPS - 1), status }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rebuild" as const)}) },
);
/** Rounds run one after the other; the operations of a round run at the same time. */
const scenario = fc.record({
  messages: fc.array(message, { minLength: MESSAGES, maxLength: MESSAGES }),
  rounds: fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

let run = 0;

/** Plays a scenario through the Worker (ingest, reviews) on drops and messages of its own. */
async function play(edge: Edge, s: Scenario): Promise<void> {
  const tag = `${++run}`.padStart(4, "0");
  const drop = (k: number) => `DR${tag}${k}`;
  const config = loadConfig(edge.env);
  const apply = async (o: Op) => {
    switch (o.kind) {
      case "ingest": {
        const submissions = o.items.map(({ message: m, drop: k }) => ({
          messageId: `3EB0${tag}M${m}`,
          chatJid: PROJECTS[s.messages[m]!.project]!.groupJid,
          dropNumber: drop(k),
          session: "primary",
          senderJid: "27821234567@s.whatsapp.net",
          text: `${drop(k)} done`,
          sentAt: new Date(s.messages[m]!.at).toISOString(),
        }));
        const r = await edge.agent("POST", "/v1/agent/drops", { submissions });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return;
      }
      case "review": {
        // The review path with a driven clock (the route passes `new Date()`).
        const db = openDb(config);
        try {
          await reviewDrop(db, drop(o.drop), { status: o.status, reviewer: "QA", steps: {} }, new Date(o.at));
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        } finally {
          await db.end();
        }
        return;
      }
      case "reviewNow": {
        const r = await edge.dash("PATCH", `/v1/drops/${drop(o.drop)}/review`, { status: o.status, reviewer: "QA" });
        expect([200, 404], JSON.stringify(r.body)).toContain(r.status);
        return;
      }
      case "rebuild":
        await rebuildDailyStats(edge.databaseUrl, ZONE);
        return;
    }
  };
  for (const round of s.rounds) await Promise.all(round.map(apply));
}

async function served(edge: Edge, range = RANGE) {
  const r = await edge.call("GET", `/v1/stats/daily?from=${range.from}&to=${range.to}`, { token: DASHBOARD_TOKEN });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.days;
}

const recount = (edge: Edge, zone = ZONE, range = RANGE) => query(edge.databaseUrl, RECOUNT, [range.from, range.to, zone]);

/** A Worker on a database of its own, so a failing scenario shrinks to one that fails on its own. */
async function freshEdge(timeZone = ZONE): Promise<Edge> {
  const edge = await edgeHarness({ TIMEZONE: timeZone });
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  return edge;
}

describe("daily stats rollup", () => {
  it("equals a recount from scratch after any mix of concurrent ingests, resubmissions, late posts and reviews", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const edge = await freshEdge();
        await play(edge, s);
        expect(await served(edge)).toEqual(await recount(edge));
        expect(await query(edge.databaseUrl, "SELECT * FROM daily_stats WHERE least(new, resubmitted, complete, incomplete) < 0")).toEqual([]);
      }),
      { numRuns: 40 },
    );
  }, 300_000);
});

/** One of each rule, across local midnights: a late original, resubmissions in two groups, the last review of a
 * day deciding (also when a review is stamped earlier than one already made). */
const EVERY_RULE: Scenario = {
  messages: [
    { project: 0, at: FIRST_MIDNIGHT + 30 * MINUTE }, // local day 2, 00:30
    { project: 0, at: FIRST_MIDNIGHT - 30 * MINUTE }, // local day 1, 23:30: drop 0's late original
    { project: 1, at: FIRST_MIDNIGHT + 24 * HOUR + 10 * MINUTE }, // day 3, another group
    { project: 0, at: FIRST_MIDNIGHT + 12 * HOUR },
    { project: 2, at: FIRST_MIDNIGHT + 13 * HOUR },
    ...Array.from({ length: MESSAGES - 5 }, (_, i) => ({ project: i % 3, at: FIRST_MIDNIGHT - 20 * HOUR + i * HOUR })),
  ],
  rounds: [
    [{ kind: "ingest", items: [{ message: 0, drop: 0 }, { message: 3, drop: 1 }] }],
    [{ kind: "ingest", items: [{ message: 1, drop: 0 }, { message: 4, drop: 1 }, { message: 5, drop: 2 }] }],
    [{ kind: "ingest", items: [{ message: 2, drop: 0 }, { message: 6, drop: 2 }, { message: 2, drop: 1 }] }],
    [{ kind: "review", drop: 0, status: "incomplete", at: FIRST_MIDNIGHT + 1 * HOUR }],
    [{ kind: "review", drop: 0, status: "complete", at: FIRST_MIDNIGHT + 2 * HOUR }],
    [{ kind: "review", drop: 0, status: "incomplete", at: FIRST_MIDNIGHT + 90 * MINUTE }],
    [{ kind: "review", drop: 1, status: "complete", at: FIRST_MIDNIGHT + 23 * HOUR }],
    [{ kind: "review", drop: 1, status: "incomplete", at: FIRST_MIDNIGHT + 25 * HOUR }],
    [{ kind: "review", drop: 2, status: "incomplete", at: FIRST_MIDNIGHT - 21 * HOUR }],
  ],
};

describe("daily stats rollup, built by its migration", () => {
  it("backfills existing data with the numbers of the recount", async () => {
    const edge = await freshEdge();
    await play(edge, EVERY_RULE);
    for (const s of fc.sample(scenario, { numRuns: 6, seed: 8 })) await play(edge, s);
    const kept = await served(edge);
    const expected = await recount(edge);
    expect(expected.length).toBeGreaterThan(3);
    expect(kept).toEqual(expected);

    // The database as it was before the migration: the same records, no rollup.
    await query(
      edge.databaseUrl,
      `DROP FUNCTION rebuild_daily_stats(text); DROP TABLE daily_stats, daily_stats_zone;
       DELETE FROM schema_migrations WHERE version = '0007'`,
    );
    expect(await migrate(edge.databaseUrl)).toEqual(["0007_daily_stats_rollup"]);
    expect(await served(edge)).toEqual(expected);
  });
});

describe("daily stats in a time zone other than the rollup's", () => {
  it("refuses with the rebuild command until rebuilt, counting meanwhile in the recorded zone", async () => {
    const london = await freshEdge("Europe/London");
    // A second Worker on the same database, in the zone the rollup was built in.
    const joburg = await edgeHarness({ TIMEZONE: ZONE, DATABASE_URL: london.databaseUrl });
    // 22:30Z is the next day in Johannesburg, the same day in London.
    const sentAt = new Date(FIRST_MIDNIGHT + 30 * MINUTE).toISOString();
    const post = await london.agent("POST", "/v1/agent/drops", {
      submissions: [{ messageId: "tz1", chatJid: PROJECTS[0]!.groupJid, dropNumber: "DR77700001", session: "primary", senderJid: "2782@s.whatsapp.net", text: "DR77700001", sentAt }],
    });
    expect(post.status).toBe(200);

    const refused = await london.dash("GET", `/v1/stats/daily?from=${RANGE.from}&to=${RANGE.to}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("stats_zone_mismatch");
    expect(refused.body.error.message).toContain("kept in Africa/Johannesburg days but this Worker's TIMEZONE is Europe/London");
    expect(refused.body.error.message).toContain("TIMEZONE=Europe/London DATABASE_URL=… npm run rebuild-stats");
    // Meanwhile the drop was counted in the zone of the rollup.
    expect(await served(joburg)).toEqual(await recount(joburg));
    expect((await served(joburg))[0]).toMatchObject({ date: localDate(FIRST_MIDNIGHT + 30 * MINUTE), new: 1 });

    await rebuildDailyStats(london.databaseUrl, "Europe/London");
    const days = await served(london);
    expect(days).toEqual(await recount(london, "Europe/London"));
    expect(days[0]).toMatchObject({ date: localDate(FIRST_MIDNIGHT + 30 * MINUTE, "Europe/London"), new: 1 });
    expect((await joburg.dash("GET", `/v1/stats/daily?from=${RANGE.from}&to=${RANGE.to}`)).status).toBe(409);
  });

  it("refuses an unknown zone before changing anything", async () => {
    const edge = await edgeHarness({ TIMEZONE: ZONE });
    await expect(rebuildDailyStats(edge.databaseUrl, "Mars/Olympus")).rejects.toThrow(/time zone "Mars\/Olympus" not recognized/);
    expect(await query(edge.databaseUrl, "SELECT zone FROM daily_stats_zone")).toEqual([{ zone: ZONE }]);
  });
});

describe("rebuilding while ingest and reviews run", () => {
  const LONDON = "Europe/London";
  // 22:30Z: the next day in Johannesburg, the same day in London.
  const NEAR_MIDNIGHT = new Date(FIRST_MIDNIGHT + 30 * MINUTE).toISOString();
  const item = (messageId: string, dropNumber: string) => ({
    messageId, chatJid: PROJECTS[0]!.groupJid, dropNumber, session: "primary", senderJid: "2782@s.whatsapp.net", text: dropNumber, sentAt: NEAR_MIDNIGHT,
  });

  /** Resolves once a statement containing `sql` waits for a lock in the edge's database. */
  async function blockedOn(edge: Edge, sql: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const [row] = await query(
        edge.databaseUrl,
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND position($1 in query) > 0`,
        [sql],
      );
      if (row.n > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no statement with ${sql} ever waited for a lock`);
  }

  it("a rebuild waits for a review that is counting, then counts it in the new zone", async () => {
    const edge = await freshEdge();
    // Posted at noon; reviewed on the next Johannesburg day, a day with no counter yet (the review creates it).
    const noon = { ...item("rb1", "DR88800001"), sentAt: new Date(FIRST_MIDNIGHT - 10 * HOUR).toISOString() };
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [noon] })).status).toBe(200);
    const db = openDb(loadConfig(edge.env));
    let release!: () => void;
    let counted!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reached = new Promise<void>((r) => (counted = r));
    // The review's transaction, held open after everything (its count included) and before COMMIT.
    const held = { tx: <T>(fn: (q: Queryable) => Promise<T>) => db.tx(async (q) => { const out = await fn(q); counted(); await gate; return out; }) };
    const review = reviewDrop(held, "DR88800001", { status: "complete", reviewer: "QA", steps: {} }, new Date(NEAR_MIDNIGHT));
    await reached;
    const rebuild = rebuildDailyStats(edge.databaseUrl, LONDON);
    await blockedOn(edge, "rebuild_daily_stats");
    release();
    await review;
    await rebuild;
    await db.end();
    const london = await edgeHarness({ TIMEZONE: LONDON, DATABASE_URL: edge.databaseUrl });
    const days = await served(london);
    expect(days).toEqual(await recount(london, LONDON));
    expect(days).toEqual([{ date: localDate(Date.parse(NEAR_MIDNIGHT), LONDON), project: PROJECTS[0]!.name, new: 1, resubmitted: 0, complete: 1, incomplete: 0 }]);
  });

  it("an ingest or a review that reaches its count during a rebuild waits for it and counts in the zone it recorded", async () => {
    const edge = await freshEdge(LONDON);
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [item("rb2", "DR88800002")] })).status).toBe(200);
    await rebuildDailyStats(edge.databaseUrl, ZONE); // the Worker's zone is no longer the rollup's
    const admin = await sqlClient(edge.databaseUrl);
    try {
      await admin.query("BEGIN");
      await admin.query("SELECT rebuild_daily_stats($1)", [LONDON]);
      const ingest = edge.agent("POST", "/v1/agent/drops", { submissions: [item("rb3", "DR88800003")] });
      await blockedOn(edge, "daily_stats_zone");
      const db = openDb(loadConfig(edge.env));
      const review = reviewDrop(db, "DR88800002", { status: "incomplete", reviewer: "QA", steps: {} }, new Date(NEAR_MIDNIGHT)).finally(() => db.end());
      await blockedOn(edge, "last_two"); // the review's count
      await admin.query("COMMIT");
      expect((await ingest).status).toBe(200);
      await review;
    } finally {
      await admin.end();
    }
    const days = await served(edge);
    expect(days).toEqual(await recount(edge, LONDON));
    expect(days).toEqual([{ date: localDate(Date.parse(NEAR_MIDNIGHT), LONDON), project: PROJECTS[0]!.name, new: 2, resubmitted: 0, complete: 0, incomplete: 1 }]);
  });
});
