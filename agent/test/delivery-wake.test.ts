// Delivery starts the moment a drop is stored, never at the next poll: the poll here is a minute long, so only a
// wake can deliver within the test.
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
});
