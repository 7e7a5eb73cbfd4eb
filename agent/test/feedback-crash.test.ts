// Feedback at most once across a crash: the agent is SIGKILLed after WhatsApp has the message and before the
// send is recorded as done. When the edge hands the message out again, the restarted agent sends it again under
// the same WhatsApp message id, which WhatsApp (and the simulator) takes as the same message: the group sees one.
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DASHBOARD_TOKEN, eventually, simulate, spawnAgent, startEdgeServer, tempDir, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await edge?.stop();
});

const config = () => testConfig({ feedback: { pollMs: 100, batchSize: 10 } });
const sent = async (adminUrl: string) => ((await (await fetch(`${adminUrl}/simulate/sent`)).json()) as any).messages as any[];

function localRecords(dataDir: string) {
  const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT id, wa_message_id, sent_at IS NOT NULL AS sent, acked_at IS NOT NULL AS acked FROM feedback_sends").all() as any[];
  } finally {
    db.close();
  }
}

describe("feedback across a crash", () => {
  it("posts once when the agent dies between sending and recording the send", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    // Every simulated send hangs for a minute after WhatsApp has posted it.
    const first = await spawnAgent({ edgeUrl: edge.url, dataDir, config: config(), env: { SIMULATOR_SEND_DELAY_MS: "60000" } });
    children.push(first.child);
    await simulate(first.adminUrl, [{ session: "primary", text: "DR64646464 done", id: "CRASH-1" }]);
    await eventually(() => edge!.query("SELECT 1 FROM drops"), (r) => r.length === 1);
    const review = await fetch(`${edge.url}/v1/drops/DR64646464/review`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${DASHBOARD_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ status: "incomplete", reviewer: "QA" }),
    });
    expect(review.status).toBe(200);
    const [posted] = await eventually(() => sent(first.adminUrl), (m) => m.length === 1);
    // The intent is on disk, unconfirmed.
    expect(localRecords(dataDir)).toEqual([{ id: expect.any(String), wa_message_id: posted.waMessageId, sent: 0, acked: 0 }]);

    first.child.kill("SIGKILL");
    await first.exited;
    // The claim runs out with no ack; the edge hands the message out again.
    expect(await edge.query("SELECT status FROM feedback")).toEqual([{ status: "claimed" }]);
    await edge.query("UPDATE feedback SET claimed_until = now() - interval '1 second' WHERE status = 'claimed'");

    const second = await spawnAgent({ edgeUrl: edge.url, dataDir, config: config() });
    children.push(second.child);
    const [fb] = await eventually(
      () => edge!.query("SELECT status, attempts, wa_message_id FROM feedback"),
      (r) => r[0]?.status === "sent",
    );
    expect(fb).toEqual({ status: "sent", attempts: 2, wa_message_id: posted.waMessageId });
    expect(await sent(second.adminUrl)).toEqual([posted]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(localRecords(dataDir)).toEqual([{ id: expect.any(String), wa_message_id: posted.waMessageId, sent: 1, acked: 1 }]);
  }, 90_000);
});
