// Delivery starts the moment a drop is stored, never at the next poll: the poll here is a minute long, so only a
// wake can deliver within the test. While delivery backs off after a failure, a stored drop does not cut the wait short.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { AGENT_TOKEN, eventually, PROJECTS, simulate, startEdgeServer, startTestAgent, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await edge?.stop();
  agent = undefined;
  edge = undefined;
});

const slowPoll = () => testConfig({ delivery: { pollMs: 60_000, batchSize: 500 } });

describe("delivery wake-up", () => {
  it("delivers a drop at once when it is stored", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: slowPoll() });
    await eventually(() => edge!.query("SELECT name FROM projects"), (r) => r.length === PROJECTS.length, 10_000);
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678", id: "NOW-1" }]);
    await eventually(() => edge!.query("SELECT drop_number FROM drops"), (r) => r.length === 1, 10_000);
  });

  it("delivers a drop stored before the first project push as soon as the push is tried, even when the edge refuses it", async () => {
    edge = await startEdgeServer();
    // The edge has our projects from an earlier run; today it refuses the push.
    const put = await fetch(`${edge.url}/v1/agent/projects`, {
      method: "PUT",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ projects: PROJECTS }),
    });
    expect(put.status).toBe(200);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    edge.beforeHandle = async (req) => {
      if (req.method !== "PUT" || new URL(req.url).pathname !== "/v1/agent/projects") return undefined;
      await held;
      return Response.json({ error: { code: "db_unavailable", message: "try later" } }, { status: 503 });
    };

    agent = await startTestAgent(edge.url, { config: slowPoll() });
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678", id: "EARLY-1" }]);
    // Held back: the edge may not know the group yet.
    expect(agent.db.prepare("SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL").get()).toEqual({ n: 1 });
    release();
    const rows = await eventually(() => edge!.query("SELECT drop_number FROM drops"), (r) => r.length === 1, 10_000);
    expect(rows).toEqual([{ drop_number: "DR12345678" }]);
  });

  it("while it backs off after a failure, newly stored drops wait for the retry instead of each calling the edge", async () => {
    edge = await startEdgeServer();
    edge.beforeHandle = async (req) =>
      req.method === "POST" && new URL(req.url).pathname === "/v1/agent/drops"
        ? Response.json({ error: { code: "db_unavailable", message: "try later" } }, { status: 503 })
        : undefined;
    // The first retry is at least 30 s away: any further POST within the test came from a wake.
    agent = await startTestAgent(edge.url, { config: testConfig({ delivery: { pollMs: 60_000, batchSize: 500 }, backoff: { initialMs: 60_000, maxMs: 60_000 } }) });
    await eventually(() => edge!.query("SELECT name FROM projects"), (r) => r.length === PROJECTS.length, 10_000);
    const posts = () => edge!.requests.filter((r) => r === "POST /v1/agent/drops").length;
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678", id: "FAIL-1" }]);
    await eventually(async () => agent!.health().delivery.failing, (failing) => failing, 10_000);
    expect(posts()).toBe(1);
    for (let i = 2; i <= 5; i++) await simulate(agent.adminUrl, [{ session: "primary", text: `DR1234567${i}`, id: `FAIL-${i}` }]);
    // A wake that cut the backoff short would have posted within milliseconds of the store.
    await new Promise((r) => setTimeout(r, 1000));
    expect(posts()).toBe(1);
    expect(agent.db.prepare("SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL").get()).toEqual({ n: 5 });
  });
});
