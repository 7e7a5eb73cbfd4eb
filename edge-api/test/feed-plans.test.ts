// The feed filtered by project: what it returns (every group of that name, newest first, paged) and what it costs
// Postgres — a small project's page reads that project's rows from an index, never the whole feed. The cost is
// counted in rows Postgres read (EXPLAIN ANALYZE), not in time.
import { beforeAll, describe, expect, it } from "vitest";
import { query } from "../../tools/test/db.ts";
import { feedQuery, type FeedFilter } from "../src/db/feed.ts";
import { edgeHarness, PROJECTS, type Edge } from "./harness.ts";

let edge: Edge;
const SECOND_LAWLEY = { name: "Lawley", groupJid: "120363000000000077@g.us", description: "Lawley phase 2" };

// Mohadin is large, Velo Test (a test group) small; Lawley is two groups of one name.
const SIZES: [jid: string, drops: number][] = [
  [PROJECTS[2]!.groupJid, 3000],
  [PROJECTS[1]!.groupJid, 30],
  [PROJECTS[0]!.groupJid, 12],
  [SECOND_LAWLEY.groupJid, 12], // EXPLAIN gives rows per loop, rounded: two groups of one size count exactly
];

beforeAll(async () => {
  edge = await edgeHarness();
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  // A group recreated under the same project name: one sync never carries two, but the table keeps both.
  await query(edge.databaseUrl, "INSERT INTO projects (name, group_jid, description) VALUES ($1, $2, $3)", [
    SECOND_LAWLEY.name,
    SECOND_LAWLEY.groupJid,
    SECOND_LAWLEY.description,
  ]);
  let n = 0;
  for (const [jid, drops] of SIZES) {
    // One drop an hour back from 2026-11-24, interleaved across projects; every third incomplete.
    await query(
      edge.databaseUrl,
      `INSERT INTO drops (drop_number, project_id, status, resubmitted, first_submitted_at, last_submitted_at, submission_count)
       SELECT 'DR' || lpad(($2 + i)::text, 8, '0'), (SELECT id FROM projects WHERE group_jid = $1),
              CASE WHEN i % 3 = 0 THEN 'incomplete' ELSE 'new' END, false, t, t, 1
       FROM generate_series(1, $3::int) i, LATERAL (SELECT '2026-11-24T12:00:00Z'::timestamptz - (i * 4 + $4) * interval '15 minutes' AS t) x`,
      [jid, n, drops, n % 4],
    );
    n += 10_000;
  }
  await query(edge.databaseUrl, "ANALYZE drops");
});

type Page = { items: { dropNumber: string; project: string; status: string; lastSubmittedAt: string }[]; nextCursor: string | null };

async function allPages(q: string, limit: number): Promise<Page["items"]> {
  const items: Page["items"] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; body: Page } = await edge.dash("GET", `/v1/drops?${q}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    items.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return items;
}

async function expected(where: string, params: unknown[]): Promise<string[]> {
  const rows = await query(
    edge.databaseUrl,
    `SELECT d.drop_number FROM drops d JOIN projects p ON p.id = d.project_id WHERE ${where}
     ORDER BY d.last_submitted_at DESC, d.drop_number DESC`,
    params,
  );
  return rows.map((r) => r.drop_number);
}

describe("the feed of one project", () => {
  it("lists every group of that name, newest first, paged without gaps or repeats", async () => {
    const items = await allPages("project=Lawley", 5);
    expect(items.map((i) => i.dropNumber)).toEqual(await expected("p.name = 'Lawley'", []));
    expect(items).toHaveLength(24);
    expect(new Set(items.map((i) => i.project))).toEqual(new Set(["Lawley"]));
  });

  it("combines with status and the local day", async () => {
    const incomplete = await allPages("project=Lawley&status=incomplete", 2);
    expect(incomplete.map((i) => i.dropNumber)).toEqual(await expected("p.name = 'Lawley' AND d.status = 'incomplete'", []));
    expect(incomplete.length).toBeGreaterThan(0);
    const day = await allPages("project=Velo%20Test&date=2026-11-24", 7);
    expect(day.map((i) => i.dropNumber)).toEqual(
      await expected("p.name = 'Velo Test' AND (d.last_submitted_at AT TIME ZONE 'Africa/Johannesburg')::date = '2026-11-24'", []),
    );
    expect(day.length).toBeGreaterThan(0);
  });
});

interface PlanNode {
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

/** Rows Postgres read from `drops` to answer the feed query for `f`, from its actual plan. */
async function dropsRowsRead(f: Omit<FeedFilter, "limit">): Promise<number> {
  const { text, params } = feedQuery({ limit: 50, ...f }, "Africa/Johannesburg");
  const [row] = await query(edge.databaseUrl, `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
  const walk = (n: PlanNode): number =>
    (n["Relation Name"] === "drops"
      ? (n["Actual Rows"] + (n["Rows Removed by Filter"] ?? 0) + (n["Rows Removed by Index Recheck"] ?? 0)) * n["Actual Loops"]
      : 0) + (n.Plans ?? []).reduce((sum, c) => sum + walk(c), 0);
  return walk(row["QUERY PLAN"][0].Plan);
}

describe("what a project's page costs", () => {
  it("reads only the small project's own rows, not the large project's", async () => {
    expect(await dropsRowsRead({ project: "Velo Test" })).toBe(30);
  });

  it("reads only the rows of that project and status", async () => {
    expect(await dropsRowsRead({ project: "Velo Test", status: "incomplete" })).toBe(10);
    expect(await dropsRowsRead({ project: "Lawley", status: "incomplete" })).toBe(4 + 4);
  });

  it("reads a page of a large project, not all of it", async () => {
    expect(await dropsRowsRead({ project: "Mohadin" })).toBe(50);
    expect(await dropsRowsRead({ project: "Mohadin", status: "incomplete" })).toBe(50);
  });
});
