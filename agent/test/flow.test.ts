// WhatsApp (simulated) → agent store → outbox → the real edge → Postgres.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { writeFile } from "node:fs/promises";
import fc from "fast-check";
import path from "node:path";
import { stringify } from "yaml";
import { startAgent } from "../src/agent.ts";
import { AgentEnv } from "../src/env.ts";
import { AGENT_TOKEN, eventually, LAWLEY, PROJECTS, simulate, startEdgeServer, startTestAgent, tempDir, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await edge?.stop();
  agent = undefined;
  edge = undefined;
});

const countRows = async (e: EdgeServer) =>
  (await e.query("SELECT (SELECT count(*) FROM drops)::int AS drops, (SELECT count(*) FROM submissions)::int AS subs"))[0];

describe("agent → edge", () => {
  it("pushes the configured projects and delivers a simulated drop into Postgres", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await eventually(() => edge!.query("SELECT name FROM projects ORDER BY name"), (r) => r.length === 4);
    const r = await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678 installed, pics attached", id: "SIM-1" }]);
    expect(r.status).toBe(200);
    const rows = await eventually(
      () => edge!.query("SELECT drop_number, status, session, message_id, sender_phone FROM drops JOIN submissions USING (drop_number)"),
      (r) => r.length === 1,
    );
    expect(rows[0]).toEqual({ drop_number: "DR12345678", status: "new", session: "primary", message_id: "SIM-1", sender_phone: "+27821234567" });
    const outbox = agent.db.prepare("SELECT result, delivered_at IS NOT NULL AS delivered FROM outbox").all();
    expect(outbox).toEqual([{ result: "new", delivered: 1 }]);
  });

  it("the same message via primary and backup is one submission, with the first session kept", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await simulate(agent.adminUrl, [
      { session: "backup", text: "DR55550000", id: "DUAL-1" },
      { session: "primary", text: "DR55550000", id: "DUAL-1" },
    ]);
    await eventually(() => countRows(edge!), (c) => c.subs === 1);
    // Give a second delivery the chance to happen if it were going to.
    await new Promise((r) => setTimeout(r, 300));
    expect(await countRows(edge)).toEqual({ drops: 1, subs: 1 });
    expect(await edge.query("SELECT session FROM submissions")).toEqual([{ session: "backup" }]);
    // Both numbers stored the message.
    expect(agent.db.prepare("SELECT session FROM messages WHERE message_id = 'DUAL-1' ORDER BY session").all()).toEqual([
      { session: "backup" },
      { session: "primary" },
    ]);
  });

  it("a re-post of a drop is a resubmission", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR77770000", id: "P1" }]);
    await eventually(() => countRows(edge!), (c) => c.subs === 1);
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR77770000 redone, new photos", id: "P2" }]);
    const [drop] = await eventually(
      () => edge!.query("SELECT status, resubmitted, submission_count FROM drops"),
      (r) => r[0]?.submission_count === 2,
    );
    expect(drop).toEqual({ status: "resubmitted", resubmitted: true, submission_count: 2 });
    expect(agent.db.prepare("SELECT message_id, result FROM outbox ORDER BY id").all()).toEqual([
      { message_id: "P1", result: "new" },
      { message_id: "P2", result: "resubmission" },
    ]);
  });

  it("our own feedback echoed into the group never becomes a submission", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    const sent = await agent.sessions.get("sender")!.send(LAWLEY, "QA: DR12121212 is missing the ONT barcode photo");
    // Every simulated number saw it; the capture numbers stored it as ours.
    const seen = agent.db.prepare("SELECT session, own FROM messages WHERE message_id = ? ORDER BY session").all(sent.waMessageId);
    expect(seen).toEqual([
      { session: "backup", own: 1 },
      { session: "primary", own: 1 },
      { session: "sender", own: 1 },
    ]);
    expect(agent.db.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 0 });
    const list = (await (await fetch(`${agent.adminUrl}/simulate/sent`)).json()) as any;
    expect(list.messages).toMatchObject([{ session: "sender", chatJid: LAWLEY, waMessageId: sent.waMessageId }]);
  });

  it("holds 1,000 drops while the edge is down and delivers each once when it returns", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    await edge.stop();
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      session: i % 3 === 0 ? "backup" : "primary",
      text: `DR${String(30_000_000 + i)} done`,
      id: `DOWN-${i}`,
    }));
    expect((await simulate(agent.adminUrl, messages)).status).toBe(200);
    const health = await eventually(
      () => fetch(`${agent!.adminUrl}/health`).then((r) => r.json() as Promise<any>),
      (h: any) => h.outbox.pending === 1000 && h.delivery.failing,
    );
    expect(health.status).toBe("degraded");
    await edge.start();
    await eventually(() => countRows(edge!), (c) => c.subs === 1000, 30_000);
    await eventually(
      () => fetch(`${agent!.adminUrl}/health`).then((r) => r.json() as Promise<any>),
      (h: any) => h.outbox.pending === 0 && h.status === "ok",
    );
    expect(await countRows(edge)).toEqual({ drops: 1000, subs: 1000 });
    expect(await edge.query("SELECT status, count(*)::int AS n FROM drops GROUP BY status")).toEqual([{ status: "new", n: 1000 }]);
    expect(agent.db.prepare("SELECT result, count(*) AS n FROM outbox GROUP BY result").all()).toEqual([{ result: "new", n: 1000 }]);
  }, 60_000);

  it("sets aside a row the edge refuses without holding up the others", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    // The edge refuses any batch that contains this one message, as it would refuse contract drift.
    edge.beforeHandle = async (req) => {
      if (new URL(req.url).pathname !== "/v1/agent/drops") return undefined;
      if (!(await req.clone().text()).includes("POISON")) return undefined;
      return Response.json({ error: { code: "invalid_request", message: "refused" } }, { status: 400 });
    };
    await edge.stop(); // queue everything first, so it goes out in one batch
    const messages = Array.from({ length: 9 }, (_, i) => ({ session: "primary", text: `DR${50_000_000 + i}`, id: `OK-${i}` }));
    messages.splice(4, 0, { session: "primary", text: "DR59999999 POISON", id: "BAD" });
    await simulate(agent.adminUrl, messages);
    await edge.start();
    await eventually(() => countRows(edge!), (c) => c.subs === 9, 30_000);
    const local = await eventually(
      async () => agent!.db.prepare("SELECT message_id, result FROM outbox WHERE result = 'rejected'").all(),
      (r) => r.length === 1,
    );
    expect(local).toEqual([{ message_id: "BAD", result: "rejected" }]);
    expect(agent.db.prepare("SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL").get()).toEqual({ n: 0 });
  }, 60_000);

  it("when the edge refuses every row, keeps them all and retries instead of discarding them", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    let refusing = true;
    edge.beforeHandle = async (req) =>
      refusing && new URL(req.url).pathname === "/v1/agent/drops"
        ? Response.json({ error: { code: "invalid_request", message: "unknown field" } }, { status: 400 })
        : undefined;
    await simulate(agent.adminUrl, Array.from({ length: 5 }, (_, i) => ({ session: "primary", text: `DR${51_000_000 + i}`, id: `R-${i}` })));
    const health = await eventually(
      () => fetch(`${agent!.adminUrl}/health`).then((r) => r.json() as Promise<any>),
      (h) => h.delivery.failing,
    );
    expect(health.delivery.lastError).toMatch(/refuses every row/);
    expect(agent.db.prepare("SELECT count(*) AS n FROM outbox WHERE result = 'rejected'").get()).toEqual({ n: 0 });
    refusing = false;
    await eventually(() => countRows(edge!), (c) => c.subs === 5, 30_000);
  }, 60_000);

  it("never answers 5xx to whatever is posted to the simulator", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    const junk = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object());
    const body = fc.oneof(
      fc.anything(),
      fc.record({
        messages: fc.array(
          fc.record({ session: fc.oneof(fc.constantFrom("primary", "backup", "nobody"), junk), chatJid: fc.oneof(fc.constant(LAWLEY), fc.string()), senderJid: fc.oneof(fc.constant("27821234567@s.whatsapp.net"), fc.string()), text: fc.oneof(fc.string(), junk), timestamp: fc.oneof(fc.integer(), junk) }, { requiredKeys: [] }),
          { maxLength: 3 },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await fetch(`${agent!.adminUrl}/simulate/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(b) });
        expect(res.status).toBeLessThan(500);
        await res.body?.cancel();
      }),
      { numRuns: 60 },
    );
  });

  it("answers bad simulator input with JSON errors", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    expect((await simulate(agent.adminUrl, [{ session: "nobody", text: "DR12345678" }])).body.error.code).toBe("invalid_request");
    const bad = await fetch(`${agent.adminUrl}/simulate/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe("invalid_json");
    const qr = await fetch(`${agent.adminUrl}/sessions/primary/qr`);
    expect(qr.status).toBe(404);
    expect(agent.db.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({ n: 0 });
  });

  it("pushes project changes made to the config file while running, and ignores a broken edit", async () => {
    edge = await startEdgeServer();
    const dir = await tempDir();
    const file = path.join(dir, "agent.yaml");
    const config = testConfig();
    await writeFile(file, stringify(config));
    const env = AgentEnv.parse({ AGENT_TOKEN, EDGE_URL: edge.url, DATA_DIR: dir, ADMIN_PORT: "0", WA_TRANSPORT: "simulator", LOG_LEVEL: "silent" });
    agent = await startAgent({ config, configFile: file, env });
    await eventually(() => edge!.query("SELECT name FROM projects"), (r) => r.length === 4);
    await writeFile(file, "projects: [\n");
    await new Promise((r) => setTimeout(r, 600));
    const more = { ...config, projects: [...PROJECTS, { name: "Soshanguve", groupJid: "120363400000000001@g.us", enabled: true, description: "" }] };
    await writeFile(file, stringify(more));
    await eventually(() => edge!.query("SELECT name FROM projects ORDER BY name"), (r) => r.length === 5);
    // The new group is monitored from now on.
    await simulate(agent.adminUrl, [{ session: "primary", chatJid: "120363400000000001@g.us", text: "DR60000001", id: "NEWGRP" }]);
    await eventually(() => edge!.query("SELECT p.name FROM drops d JOIN projects p ON p.id = d.project_id"), (r) => r[0]?.name === "Soshanguve");
  });
});
