// GET /v1/drops/:dropNumber: everything recorded about a drop, read in one statement (one round trip on the
// Worker's connection), and exactly what the tables hold.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DropDetail } from "@wa-monitor/shared";
import { startNeonProxy, type NeonProxy } from "../../tools/neon-proxy.ts";
import { query } from "../../tools/test/db.ts";
import { sentByClient, wireRecorder } from "../../tools/test/wire.ts";
import { edgeHarness, PROJECTS, submission, type Edge } from "./harness.ts";

const DROP = "DR55500001";
let edge: Edge;
let proxy: NeonProxy;
const wire = wireRecorder();

beforeAll(async () => {
  const { host, port } = inject("pg");
  proxy = await startNeonProxy({ target: { host, port }, observe: wire.observe });
  edge = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address });
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  const posts = [
    submission({ dropNumber: DROP, messageId: "dd-1", sentAt: "2026-11-24T08:15:00.000Z", text: `${DROP} done` }),
    submission({ dropNumber: DROP, messageId: "dd-2", sentAt: "2026-11-24T09:40:00.000Z", senderName: "Lerato", session: "backup", senderPhone: null }),
  ];
  for (const p of posts) expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [p] })).status).toBe(200);
  const review = (status: string, steps: Record<string, boolean>, comment?: string) =>
    edge.dash("PATCH", `/v1/drops/${DROP}/review`, { status, steps, reviewer: "QA Naledi", ...(comment ? { comment } : {}) });
  expect((await review("incomplete", { house_photo: true }, "ONT barcode missing")).status).toBe(200);
  expect((await review("complete", { ont_barcode: true })).status).toBe(200);
});

afterAll(async () => {
  await proxy?.close();
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

describe("GET /v1/drops/:dropNumber", () => {
  it("answers with one statement on the Worker's connection", async () => {
    const before = wire.connections().length;
    expect((await edge.dash("GET", `/v1/drops/${DROP}`)).status).toBe(200);
    const [conn, ...more] = wire.connections().slice(before);
    expect(more).toEqual([]);
    const statements = sentByClient(conn!).filter((t) => t === "P" || t === "Q");
    expect(statements).toHaveLength(1);
  });

  it("holds the drop's submissions, reviews and feedback exactly as stored, in order", async () => {
    const d = DropDetail.parse((await edge.dash("GET", `/v1/drops/${DROP}`)).body);
    const subs = await query(edge.databaseUrl, "SELECT * FROM submissions WHERE drop_number = $1 ORDER BY sent_at, id", [DROP]);
    const reviews = await query(edge.databaseUrl, "SELECT * FROM reviews WHERE drop_number = $1 ORDER BY created_at, id", [DROP]);
    const feedback = await query(edge.databaseUrl, "SELECT * FROM feedback WHERE drop_number = $1 ORDER BY created_at, id", [DROP]);
    expect(subs).toHaveLength(2);
    expect(reviews).toHaveLength(2);
    expect(feedback).toHaveLength(1);
    expect(d.submissions).toEqual(
      subs.map((s) => ({
        messageId: s.message_id,
        chatJid: s.chat_jid,
        session: s.session,
        bridge: s.session,
        senderJid: s.sender_jid,
        senderPhone: s.sender_phone,
        senderName: s.sender_name,
        text: s.text,
        sentAt: iso(s.sent_at),
        receivedAt: iso(s.received_at),
        resubmission: s.is_resubmission,
      })),
    );
    expect(d.submissions.map((s) => [s.messageId, s.senderPhone, s.resubmission])).toEqual([
      ["dd-1", "+27821234567", false],
      ["dd-2", null, true],
    ]);
    expect(d.reviews).toEqual(
      reviews.map((r) => ({ status: r.status, steps: r.steps, comment: r.comment, reviewer: r.reviewer, createdAt: iso(r.created_at) })),
    );
    expect(d.reviews.map((r) => [r.status, r.comment])).toEqual([
      ["incomplete", "ONT barcode missing"],
      ["complete", null],
    ]);
    expect(d.feedback).toEqual(
      feedback.map((f) => ({
        id: String(f.id),
        status: f.status,
        text: f.text,
        dueAt: iso(f.due_at),
        sentAt: iso(f.sent_at),
        attempts: f.attempts,
        error: f.error,
      })),
    );
    expect(d.feedback[0]!.status).toBe("cancelled");
  });

  it("answers a drop with no reviews or feedback with empty lists", async () => {
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber: "DR55500002", messageId: "dd-3" })] })).status).toBe(200);
    const d = DropDetail.parse((await edge.dash("GET", "/v1/drops/DR55500002")).body);
    expect([d.submissions.length, d.reviews, d.feedback]).toEqual([1, [], []]);
  });
});
