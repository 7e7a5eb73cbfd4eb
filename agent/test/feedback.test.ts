// Feedback from the edge's outbox out through the agent's send path (the simulator records what it sends),
// acknowledged back to the edge.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { DASHBOARD_TOKEN } from "../../edge-api/test/harness.ts";
import { eventually, LAWLEY, simulate, startEdgeServer, startTestAgent, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await edge?.stop();
  agent = undefined;
  edge = undefined;
});

const fastConfig = () => testConfig({ feedback: { pollMs: 100, batchSize: 10 }, heartbeatSeconds: 1 });

async function dash(method: string, path: string, body?: unknown) {
  const res = await fetch(edge!.url + path, {
    method,
    headers: { authorization: `Bearer ${DASHBOARD_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function dropPosted(drop: string, id: string) {
  await simulate(agent!.adminUrl, [{ session: "primary", text: `${drop} done`, id }]);
  await eventually(() => edge!.query("SELECT 1 FROM drops WHERE drop_number = $1", [drop]), (r) => r.length === 1);
}

const sent = async () => ((await (await fetch(`${agent!.adminUrl}/simulate/sent`)).json()) as any).messages as any[];

describe("feedback through the agent", () => {
  it("an incomplete review reaches the group via the sender session and is acked", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR24682468", "FB-1");
    const r = await dash("PATCH", "/v1/drops/DR24682468/review", { steps: { house_photo: true }, status: "incomplete", reviewer: "QA", comment: "No ONT photo" });
    expect(r.status).toBe(200);
    const out = await eventually(sent, (m) => m.length === 1);
    expect(out[0]).toMatchObject({ session: "sender", chatJid: LAWLEY, mentions: ["27821234567@s.whatsapp.net"] });
    expect(out[0].text).toContain("DR24682468");
    expect(out[0].text).toContain("Comment: No ONT photo");
    const drop = await eventually(() => dash("GET", "/v1/drops/DR24682468"), (d) => d.body.feedbackSentAt !== null);
    expect(drop.body.feedback).toMatchObject([{ status: "sent" }]);
    expect(await edge.query("SELECT sent_by, wa_message_id FROM feedback")).toEqual([{ sent_by: "sender", wa_message_id: out[0].waMessageId }]);
    // Our own message came back into the group on every number and was not taken for a drop.
    const outbox = agent.db.prepare("SELECT count(*) AS n FROM outbox").get();
    expect(outbox).toEqual({ n: 1 });
  });

  it("falls back to another open session when the sender is down, and says so", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR13571357", "FB-2");
    await agent.sessions.get("sender")!.stop();
    await dash("PATCH", "/v1/drops/DR13571357/review", { status: "incomplete", reviewer: "QA" });
    const out = await eventually(sent, (m) => m.length === 1);
    expect(out[0].session).toBe("primary");
    const [fb] = await eventually(() => edge!.query("SELECT status, sent_by, error FROM feedback"), (r) => r[0]?.status === "sent");
    expect(fb).toEqual({ status: "sent", sent_by: "primary", error: "sent by fallback session primary" });
  });

  it("a lost ack is retried, and the message is never sent twice", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR11223344", "FB-3");
    // The edge records the first ack, but its answer never reaches the agent.
    let dropped = 0;
    const realStart = edge.afterHandle;
    edge.afterHandle = async (req) => {
      if (req.method === "POST" && new URL(req.url).pathname.endsWith("/ack") && dropped === 0) {
        dropped++;
        throw new Error("connection reset");
      }
    };
    await dash("PATCH", "/v1/drops/DR11223344/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent", 20_000);
    // The agent acks again until the edge answers.
    await eventually(async () => agent!.db.prepare("SELECT acked_at IS NOT NULL AS acked FROM feedback_sent").all(), (r: any[]) => r[0]?.acked === 1);
    edge.afterHandle = realStart;
    expect(dropped).toBe(1);
    expect(await sent()).toHaveLength(1);
    expect(await edge.query("SELECT status, attempts FROM feedback")).toEqual([{ status: "sent", attempts: 1 }]);
  });

  it("a message handed out again after it was sent is acked, not sent twice", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR55667788", "FB-4");
    await dash("PATCH", "/v1/drops/DR55667788/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent");
    // As if the lease had run out before the ack arrived: the edge hands the same message out again.
    await edge.query("UPDATE feedback SET status = 'ready', wa_message_id = NULL");
    await eventually(() => edge!.query("SELECT status, attempts FROM feedback"), (r) => r[0]?.status === "sent" && r[0]?.attempts === 2);
    expect(await sent()).toHaveLength(1);
    const [fb] = await edge.query("SELECT wa_message_id FROM feedback");
    expect(fb.wa_message_id).toBe((await sent())[0].waMessageId);
  });

  it("gives up on a stored ack the edge will never take, and keeps sending", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    agent.db
      .prepare("INSERT INTO feedback_sent (edge, id, chat_jid, session, fallback, wa_message_id, sent_at) VALUES (?, '999999', ?, 'sender', 0, 'WA-OLD', 0)")
      .run(edge.url, LAWLEY);
    await dropPosted("DR99887766", "FB-5");
    await dash("PATCH", "/v1/drops/DR99887766/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent");
    const old = agent.db.prepare("SELECT acked_at IS NOT NULL AS done, ack_error FROM feedback_sent WHERE id = '999999'").get() as any;
    expect(old.done).toBe(1);
    expect(old.ack_error).toMatch(/404/);
  });

  it("reports its sessions to the edge in heartbeats", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: { ...fastConfig(), agentName: "vps-test" } });
    const list = await eventually(() => dash("GET", "/v1/bridges"), (r) => r.body.bridges.length === 3);
    expect(list.body.bridges.map((b: any) => [b.agent, b.session, b.state, b.stale])).toEqual([
      ["vps-test", "backup", "open", false],
      ["vps-test", "primary", "open", false],
      ["vps-test", "sender", "open", false],
    ]);
  });
});
