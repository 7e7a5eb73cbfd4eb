// Feedback from the edge's outbox out through the agent's send path (the simulator records what it sends),
// acknowledged back to the edge.
import type { OutboxMessage } from "@wa-monitor/shared";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { openStore } from "../src/store/db.ts";
import { feedbackMessageId } from "../src/sync/feedback.ts";
import { callWorker, DASHBOARD_TOKEN } from "../../edge-api/test/harness.ts";
import {
  AGENT_TOKEN,
  eventually,
  LAWLEY,
  PROJECTS,
  simulate,
  startEdgeServer,
  startTestAgent,
  tempDir,
  testConfig,
  type EdgeServer,
} from "./helpers.ts";

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

/** Rewrites the edge's feedback hand-outs on their way to the agent (what a skewed agent clock would see). */
function rewriteHandOuts(e: EdgeServer, change: (m: OutboxMessage) => OutboxMessage) {
  const env = { DATABASE_URL: e.databaseUrl, AGENT_TOKEN, DASHBOARD_TOKEN, NEON_LOCAL_PROXY: inject("pg").proxy, NEON_LOCAL_AUTH: inject("pg").auth, TIMEZONE: "Africa/Johannesburg" };
  e.beforeHandle = async (req) => {
    if (req.method !== "GET" || new URL(req.url).pathname !== "/v1/agent/outbox") return undefined;
    const res = await callWorker(req, env);
    const body = (await res.json()) as { messages: OutboxMessage[] };
    return Response.json({ messages: body.messages.map(change) }, { status: res.status });
  };
}

async function agentCall(method: string, path: string, body: unknown) {
  const res = await fetch(edge!.url + path, {
    method,
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

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
    await eventually(async () => agent!.db.prepare("SELECT acked_at IS NOT NULL AS acked FROM feedback_sends").all(), (r: any[]) => r[0]?.acked === 1);
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
      .prepare("INSERT INTO feedback_sends (id, chat_jid, session, fallback, wa_message_id, intended_at, sent_at) VALUES ('999999', ?, 'sender', 0, 'WA-OLD', 0, 0)")
      .run(LAWLEY);
    await dropPosted("DR99887766", "FB-5");
    await dash("PATCH", "/v1/drops/DR99887766/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent");
    const old = agent.db.prepare("SELECT acked_at IS NOT NULL AS done, ack_error FROM feedback_sends WHERE id = '999999'").get() as any;
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

  it("sends under a WhatsApp message id derived from the feedback, recorded before the send", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR42424242", "FB-ID");
    await dash("PATCH", "/v1/drops/DR42424242/review", { status: "incomplete", reviewer: "QA" });
    const [fb] = await eventually(() => edge!.query("SELECT id::text, status, wa_message_id FROM feedback"), (r) => r[0]?.status === "sent");
    const expected = feedbackMessageId({ id: fb.id, chatJid: LAWLEY, dropNumber: "DR42424242" });
    expect(expected).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(fb.wa_message_id).toBe(expected);
    expect((await sent()).map((m) => m.waMessageId)).toEqual([expected]);
  });

  it("keeps its record of a send when EDGE_URL changes", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    agent = await startTestAgent(edge.url, { config: fastConfig(), dataDir });
    await dropPosted("DR56565656", "FB-URL");
    await dash("PATCH", "/v1/drops/DR56565656/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent");
    const before = agent.db.prepare("SELECT id, sent_at FROM feedback_sends").all();
    await agent.stop();
    // The same edge under another spelling of its URL (a new domain, a proxy in front...).
    agent = await startTestAgent(edge.url + "/", { config: fastConfig(), dataDir });
    await edge.query("UPDATE feedback SET status = 'ready', wa_message_id = NULL");
    await eventually(() => edge!.query("SELECT status, attempts FROM feedback"), (r) => r[0]?.status === "sent" && r[0]?.attempts === 2);
    expect(await sent()).toHaveLength(1);
    // Acked from the one record made by the first run, not sent and recorded anew.
    expect(agent.db.prepare("SELECT id, sent_at FROM feedback_sends").all()).toEqual(before);
  });

  it("times its claim from the edge's leaseSeconds, not its own wall clock", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR67676767", "FB-SKEW");
    // As an agent whose clock runs an hour fast sees the hand-out: claimedUntil long past, the lease intact.
    rewriteHandOuts(edge, (m) => ({ ...m, claimedUntil: new Date(Date.now() - 3_600_000).toISOString() }));
    await dash("PATCH", "/v1/drops/DR67676767/review", { status: "incomplete", reviewer: "QA" });
    await eventually(() => edge!.query("SELECT status FROM feedback"), (r) => r[0]?.status === "sent");
    expect(await sent()).toHaveLength(1);
  });

  it("does not start a send with less of the claim left than its margin, whatever claimedUntil says", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: fastConfig() });
    await dropPosted("DR78787878", "FB-LEASE");
    rewriteHandOuts(edge, (m) => ({ ...m, claimedUntil: new Date(Date.now() + 3_600_000).toISOString(), leaseSeconds: 3 }));
    await dash("PATCH", "/v1/drops/DR78787878/review", { status: "incomplete", reviewer: "QA" });
    const [fb] = await eventually(() => edge!.query("SELECT status, error FROM feedback"), (r) => /claim about to expire/.test(r[0]?.error ?? ""));
    expect(fb.status).not.toBe("sent");
    expect(await sent()).toEqual([]);
  });

  it("acks feedback for a group outside its own projects as failed, naming the group, and posts nothing", async () => {
    edge = await startEdgeServer();
    // Another agent's project: the edge knows the group and has feedback for it.
    await agentCall("PUT", "/v1/agent/projects", { projects: PROJECTS.map(({ name, groupJid, enabled, description }) => ({ name, groupJid, enabled, description })) });
    await agentCall("POST", "/v1/agent/drops", {
      submissions: [
        { messageId: "FOREIGN-1", chatJid: LAWLEY, dropNumber: "DR89898989", bridge: "other", senderJid: "27821234567@s.whatsapp.net", text: "DR89898989", sentAt: new Date().toISOString() },
      ],
    });
    await dash("PATCH", "/v1/drops/DR89898989/review", { status: "incomplete", reviewer: "QA" });
    agent = await startTestAgent(edge.url, { config: testConfig({ ...fastConfig(), projects: PROJECTS.slice(1) }) });
    const [fb] = await eventually(() => edge!.query("SELECT status, error FROM feedback"), (r) => r[0]?.error?.includes(LAWLEY));
    expect(fb.error).toBe(`group ${LAWLEY} is not in this agent's projects; refusing to post there`);
    expect(fb.status).not.toBe("sent");
    expect(await sent()).toEqual([]);
    expect(agent.db.prepare("SELECT count(*) AS n FROM feedback_sends").get()).toEqual({ n: 0 });
  });

  it("carries the records of an older store over, keyed by feedback id alone", async () => {
    const dataDir = await tempDir();
    // A store as the previous version left it: schema 2, records keyed by (edge URL, id).
    const db = openStore(dataDir);
    db.exec(`
      DROP TABLE feedback_sends; DROP INDEX outbox_rejected; DROP INDEX sim_sent_by_message;
      DROP TABLE media; DROP TABLE media_blobs; DROP TABLE sim_media;
      CREATE TABLE feedback_sent (edge TEXT NOT NULL, id TEXT NOT NULL, chat_jid TEXT NOT NULL, session TEXT NOT NULL,
        fallback INTEGER NOT NULL, wa_message_id TEXT NOT NULL, sent_at INTEGER NOT NULL, acked_at INTEGER, ack_error TEXT,
        PRIMARY KEY (edge, id));
      CREATE INDEX feedback_unacked ON feedback_sent (sent_at) WHERE acked_at IS NULL;
      INSERT INTO feedback_sent VALUES ('http://old:8787', '7', '${LAWLEY}', 'sender', 0, 'WA-A', 1000, 1100, NULL);
      INSERT INTO feedback_sent VALUES ('https://new.example', '7', '${LAWLEY}', 'sender', 0, 'WA-B', 2000, NULL, NULL);
      INSERT INTO feedback_sent VALUES ('http://old:8787', '8', '${LAWLEY}', 'primary', 1, 'WA-C', 3000, NULL, NULL);
      PRAGMA user_version = 2;`);
    db.close();
    const upgraded = openStore(dataDir);
    expect(upgraded.prepare("SELECT id, session, fallback, wa_message_id, sent_at, acked_at FROM feedback_sends ORDER BY id").all()).toEqual([
      { id: "7", session: "sender", fallback: 0, wa_message_id: "WA-B", sent_at: 2000, acked_at: null },
      { id: "8", session: "primary", fallback: 1, wa_message_id: "WA-C", sent_at: 3000, acked_at: null },
    ]);
    expect(upgraded.prepare("SELECT name FROM sqlite_master WHERE name = 'feedback_sent'").all()).toEqual([]);
    upgraded.close();
  });
});
