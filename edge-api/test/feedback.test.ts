// QA review → feedback scheduled under the rate limits → claimed by agents → acknowledged. Real Postgres, the
// Worker's own code; the scheduler's clock is driven by the tests.
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { migrate, MIGRATIONS_DIR } from "../../tools/migrate.ts";
import { ensureDatabase } from "../../tools/postgres.ts";
import { query } from "../../tools/test/db.ts";
import { openDb } from "../src/db/client.ts";
import { loadConfig } from "../src/env.ts";
import { feedbackLimits, type FeedbackLimits } from "../src/feedback/limits.ts";
import { acknowledge, handOut, releaseExpiredClaims } from "../src/feedback/queue/index.ts";
import { runScheduled } from "../src/scheduled.ts";
import { edgeHarness, PROJECTS, submission, type Edge } from "./harness.ts";

let edge: Edge;

async function setup(overrides: Record<string, string> = {}) {
  edge = await edgeHarness(overrides);
  await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS });
}

const sql = <T = any>(text: string, params: unknown[] = []) => query<T>(edge.databaseUrl, text, params);

async function newDrops(n: number, prefix = "DR5") {
  const subs = Array.from({ length: n }, (_, i) =>
    submission({ dropNumber: `${prefix}${String(i).padStart(7, "0")}`, messageId: `${prefix}-${i}`, senderJid: "27821234567@s.whatsapp.net" }),
  );
  for (let i = 0; i < subs.length; i += 500) await edge.agent("POST", "/v1/agent/drops", { submissions: subs.slice(i, i + 500) });
  return subs.map((s) => s.dropNumber);
}

const review = (drop: string, body: Record<string, unknown>) =>
  edge.dash("PATCH", `/v1/drops/${drop}/review`, { reviewer: "Anel (QA)", ...body });

async function withLimits<T>(over: Partial<FeedbackLimits>, fn: (db: ReturnType<typeof openDb>, limits: FeedbackLimits) => Promise<T>) {
  const cfg = loadConfig(edge.env);
  const db = openDb(cfg);
  try {
    return await fn(db, { ...feedbackLimits(cfg), ...over });
  } finally {
    await db.end();
  }
}

/** What cron does to feedback at `at`: release expired leases. */
const cron = (at: Date, over: Partial<FeedbackLimits> = {}) => withLimits(over, (db, l) => releaseExpiredClaims(db, l, () => at));

/** An agent poll at `at` that sends and acks everything it gets: the ids of the messages handed out. */
const poll = (at: Date, over: Partial<FeedbackLimits> = {}) =>
  withLimits(over, async (db, l) => {
    const messages = await handOut(db, l, () => at, 50);
    for (const m of messages) await acknowledge(db, m.id, { status: "sent", waMessageId: `WA-${m.id}` }, at, l.maxAttempts);
    return messages.map((m) => m.id);
  });

const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);

/** n drops each with one due feedback message, written directly: the review path has its own tests. */
async function seedDue(n: number) {
  const drops = await newDrops(n, "DR6");
  await sql(
    `INSERT INTO feedback (drop_number, group_jid, text, due_at)
     SELECT drop_number, $1, 'QA: ' || drop_number, now() - interval '1 minute' FROM drops`,
    [PROJECTS[0]!.groupJid],
  );
  return drops;
}

describe("PATCH /v1/drops/:dropNumber/review", () => {
  beforeEach(() => setup());

  it("incomplete: merges the steps, keeps history, and schedules exactly one message naming what is missing", async () => {
    const [drop] = await newDrops(1);
    const allButTwo = { house_photo: true, cable_from_pole: true, cable_entry_outside: true, cable_entry_inside: true, wall_for_installation: true, ont_back_after_install: true, power_meter_reading: true, ups_serial: true, final_installation: true, green_lights: true };
    const r = await review(drop!, { steps: allButTwo, status: "incomplete", comment: "Barcode photo is blurry" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dropNumber: drop, status: "incomplete", reviewer: "Anel (QA)", comment: "Barcode photo is blurry" });
    expect(r.body.steps.ont_barcode).toBe(false);
    expect(r.body.steps.house_photo).toBe(true);
    const fb = await sql("SELECT status, group_jid, text, mentions FROM feedback");
    expect(fb).toHaveLength(1);
    expect(fb[0]).toMatchObject({ status: "pending", group_jid: PROJECTS[0]!.groupJid, mentions: ["27821234567@s.whatsapp.net"] });
    expect(fb[0].text).toBe(
      `@27821234567 QA: drop ${drop} (Lawley) is incomplete.\nMissing: ONT barcode, Customer signature.\nComment: Barcode photo is blurry\nPlease post the missing photos and resubmit the drop number.`,
    );
    // A partial update keeps what the first review set.
    const second = await review(drop!, { steps: { ont_barcode: true }, status: "incomplete" });
    expect(second.body.steps).toMatchObject({ house_photo: true, ont_barcode: true, customer_signature: false });
    expect(second.body.reviews).toHaveLength(2);
    // The newer review supersedes the unsent message: still exactly one pending.
    const after = await sql("SELECT status, text FROM feedback ORDER BY id");
    expect(after.map((f) => f.status)).toEqual(["cancelled", "pending"]);
    expect(after[1].text).toContain("Missing: Customer signature.");
  });

  it("complete cancels unsent feedback", async () => {
    const [drop] = await newDrops(1);
    await review(drop!, { status: "incomplete" });
    const r = await review(drop!, { status: "complete", steps: {} });
    expect(r.body.status).toBe("complete");
    expect(r.body.feedbackId).toBeNull();
    expect(await sql("SELECT status FROM feedback")).toEqual([{ status: "cancelled" }]);
  });

  it("a resubmission cancels unsent feedback", async () => {
    const [drop] = await newDrops(1);
    await review(drop!, { status: "incomplete" });
    const again = await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber: drop, messageId: "again" })] });
    expect(again.body.results[0].status).toBe("resubmission");
    expect(await sql("SELECT status, error FROM feedback")).toEqual([{ status: "cancelled", error: "drop was resubmitted" }]);
  });

  it("refuses unknown steps, bad bodies and unknown drops without changing anything", async () => {
    const [drop] = await newDrops(1);
    const bad = await review(drop!, { steps: { house_photo: true, roof_photo: true }, status: "incomplete" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect((await review(drop!, { status: "done" })).status).toBe(400);
    expect((await edge.dash("PATCH", `/v1/drops/${drop}/review`, { status: "complete" })).status).toBe(400); // no reviewer
    expect((await review("DR99999999", { status: "complete" })).status).toBe(404);
    expect((await edge.agent("PATCH", `/v1/drops/${drop}/review`, { status: "complete", reviewer: "x" })).status).toBe(401);
    expect(await sql("SELECT count(*)::int AS n FROM reviews")).toEqual([{ n: 0 }]);
    expect(await sql("SELECT status FROM drops")).toEqual([{ status: "new" }]);
  });
});

describe("rate limits (controllable clock)", () => {
  beforeEach(() => setup());

  it("3 due in one minute: 2 go, the 3rd the next minute", async () => {
    const drops = await newDrops(3);
    for (const d of drops) await review(d, { status: "incomplete" });
    const t0 = new Date();
    expect(await poll(t0)).toHaveLength(2);
    expect(await poll(plus(t0, 30))).toHaveLength(0);
    expect(await poll(plus(t0, 61))).toHaveLength(1);
  });

  it("the 21st in an hour waits for the hour", async () => {
    await seedDue(25);
    const t0 = new Date();
    const perMinute: number[] = [];
    // 2 a minute until the hour's 20 are used up after ten minutes; then nothing until the hour has passed.
    for (let m = 0; m <= 11; m++) perMinute.push((await poll(plus(t0, m * 60 + 1))).length);
    expect(perMinute).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0]);
    expect(await poll(plus(t0, 1800))).toHaveLength(0);
    expect(await poll(plus(t0, 3602))).toHaveLength(2);
  });

  it("no more than 100 a day", async () => {
    await seedDue(105);
    const t0 = new Date();
    let total = 0;
    for (let h = 0; h < 24; h++) total += (await poll(plus(t0, h * 3600 + 1), { perMinute: 1000 })).length;
    expect(total).toBe(100);
    expect(await poll(plus(t0, 86_402), { perMinute: 1000 })).toHaveLength(5);
  });

  it("the same drop gets feedback at most once within 3600 s", async () => {
    const [drop] = await newDrops(1);
    await review(drop!, { status: "incomplete" });
    const t0 = new Date();
    expect(await poll(t0)).toHaveLength(1);
    await review(drop!, { status: "incomplete", comment: "still missing" });
    expect(await poll(plus(t0, 600))).toHaveLength(0);
    expect(await poll(plus(t0, 3601))).toHaveLength(1);
  });

  it("messages that piled up while no agent polled still leave at the limited pace", async () => {
    await seedDue(30);
    const t0 = new Date();
    // An hour of cron runs with nobody claiming: no slot is taken.
    for (let m = 0; m < 60; m += 10) await cron(plus(t0, m * 60));
    expect(await sql("SELECT count(*)::int AS n FROM feedback_ledger")).toEqual([{ n: 0 }]);
    // The agent comes back: 2 this minute, not 20 at once.
    expect(await poll(plus(t0, 3600))).toHaveLength(2);
    expect(await poll(plus(t0, 3610))).toHaveLength(0);
    expect(await poll(plus(t0, 3661))).toHaveLength(2);
  });
});

describe("feedback hand-out", () => {
  it("claims for a lease, never hands a message out twice, and acks idempotently", async () => {
    await setup();
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    const poll = await edge.agent("GET", "/v1/agent/feedback?limit=5");
    expect(poll.status).toBe(200);
    expect(poll.body.messages).toEqual([
      {
        id: fid,
        chatJid: PROJECTS[0]!.groupJid,
        dropNumber: drop,
        text: expect.stringContaining(drop!),
        mentions: ["27821234567@s.whatsapp.net"],
        attempt: 1,
        claimedUntil: expect.any(String),
        leaseSeconds: expect.any(Number),
      },
    ]);
    // The lease is counted on the edge's clock: the agent gets what is left of it, not a time to compare with its own.
    expect(poll.body.messages[0].leaseSeconds).toBeGreaterThanOrEqual(118);
    expect(poll.body.messages[0].leaseSeconds).toBeLessThanOrEqual(120);
    expect((await edge.agent("GET", "/v1/agent/feedback")).body.messages).toEqual([]);
    const ack = { status: "sent", waMessageId: "3EB0FEEDBACK1", session: "sender" };
    expect((await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, ack)).body).toEqual({ id: fid, status: "sent" });
    const [first] = await sql("SELECT feedback_sent_at FROM drops");
    expect(first.feedback_sent_at).not.toBeNull();
    // Acking again — or a late "failed" — changes nothing.
    expect((await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, { ...ack, waMessageId: "OTHER" })).body.status).toBe("sent");
    expect((await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, { status: "failed", error: "late" })).body.status).toBe("sent");
    expect(await sql("SELECT status, wa_message_id, sent_by FROM feedback")).toEqual([{ status: "sent", wa_message_id: "3EB0FEEDBACK1", sent_by: "sender" }]);
    const [second] = await sql("SELECT feedback_sent_at FROM drops");
    expect(second.feedback_sent_at).toEqual(first.feedback_sent_at);
    const detail = await edge.dash("GET", `/v1/drops/${drop}`);
    expect(detail.body.feedbackSentAt).not.toBeNull();
    expect(detail.body.feedback).toMatchObject([{ id: fid, status: "sent", attempts: 1 }]);
  });

  it("still hands out and acks under the deprecated /v1/agent/outbox paths, for agents not yet updated", async () => {
    await setup();
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    const poll = await edge.agent("GET", "/v1/agent/outbox?limit=5");
    expect(poll.body.messages.map((m: any) => [m.id, m.dropNumber, m.attempt])).toEqual([[fid, drop, 1]]);
    expect((await edge.agent("GET", "/v1/agent/feedback")).body.messages).toEqual([]); // one queue, either path
    const ack = { status: "sent", waMessageId: "3EB0FEEDBACK2", session: "sender" };
    expect((await edge.agent("POST", `/v1/agent/outbox/${fid}/ack`, ack)).body).toEqual({ id: fid, status: "sent" });
    expect(await sql("SELECT status, wa_message_id FROM feedback")).toEqual([{ status: "sent", wa_message_id: "3EB0FEEDBACK2" }]);
    expect((await edge.dash("GET", "/v1/agent/outbox")).status).toBe(401);
  });

  it("answers bad acks with JSON errors", async () => {
    await setup();
    expect((await edge.agent("POST", "/v1/agent/feedback/999/ack", { status: "sent", waMessageId: "x" })).status).toBe(404);
    expect((await edge.agent("POST", "/v1/agent/feedback/abc/ack", { status: "sent", waMessageId: "x" })).status).toBe(400);
    expect((await edge.agent("POST", "/v1/agent/feedback/1/ack", { status: "maybe" })).status).toBe(400);
    expect((await edge.agent("GET", "/v1/agent/feedback?limit=1000")).status).toBe(400);
    const bigJid = { projects: [{ name: "Big", groupJid: `${"1".repeat(10_000)}@g.us`, enabled: true }] };
    expect((await edge.agent("PUT", "/v1/agent/projects", bigJid)).status).toBe(400);
    expect((await edge.dash("GET", "/v1/agent/feedback")).status).toBe(401);
  });

  it("a failed ack or an expired lease hands the message out again, until the attempts run out", async () => {
    await setup({ FEEDBACK_MAX_ATTEMPTS: "2" });
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    const first = await edge.agent("GET", "/v1/agent/feedback");
    expect(first.body.messages.map((m: any) => m.id)).toEqual([fid]);
    await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, { status: "failed", error: "sender session closed" });
    // Back to pending: the next poll gets it again (attempt 2), and this time no ack comes.
    expect((await edge.agent("GET", "/v1/agent/feedback")).body.messages.map((m: any) => m.id)).toEqual([fid]);
    const lease = loadConfig(edge.env).FEEDBACK_LEASE_SECONDS;
    await cron(plus(new Date(), lease + 1));
    expect(await sql("SELECT status, attempts, error FROM feedback")).toEqual([{ status: "failed", attempts: 2, error: "no ack before the lease expired" }]);
  });

  it("a stale failed ack cannot undo a newer claim, and a sent ack moves the slot to the send time", async () => {
    await setup();
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    await edge.agent("GET", "/v1/agent/feedback");
    await cron(plus(new Date(), 121)); // lease 1 expires: pending again
    const second = await edge.agent("GET", "/v1/agent/feedback");
    expect(second.body.messages).toMatchObject([{ id: fid, attempt: 2 }]);
    // The first claimant finally reports failure: it no longer holds the message, so nothing changes.
    expect((await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, { status: "failed", error: "late", attempt: 1 })).body.status).toBe("claimed");
    const sentAt = plus(new Date(), 30);
    await withLimits({}, (db, l) => acknowledge(db, fid, { status: "sent", waMessageId: "WA-2" }, sentAt, l.maxAttempts));
    const slots = await sql("SELECT taken_at FROM feedback_ledger ORDER BY id");
    expect(slots).toHaveLength(2);
    expect(new Date(slots[1].taken_at).getTime()).toBe(sentAt.getTime());
  });

  it("an expired lease is retried", async () => {
    await setup();
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    await edge.agent("GET", "/v1/agent/feedback");
    await cron(plus(new Date(), 121));
    expect(await sql("SELECT status, attempts FROM feedback")).toEqual([{ status: "pending", attempts: 1 }]);
    expect((await edge.agent("GET", "/v1/agent/feedback")).body.messages.map((m: any) => m.id)).toEqual([fid]);
    expect(await sql("SELECT status, attempts FROM feedback")).toEqual([{ status: "claimed", attempts: 2 }]);
  });
});

describe("a sent ack after a resubmission cancelled the message", () => {
  it("records the send and sets the drop's feedbackSentAt", async () => {
    await setup();
    const [drop] = await newDrops(1);
    const fid = (await review(drop!, { status: "incomplete" })).body.feedbackId;
    expect((await edge.agent("GET", "/v1/agent/feedback")).body.messages.map((m: any) => m.id)).toEqual([fid]);
    // While the agent holds the claim, the installer posts the drop again: the message is cancelled...
    const again = submission({ dropNumber: drop, messageId: "again", sentAt: "2026-11-24T09:00:00.000Z" });
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [again] })).body.results[0].status).toBe("resubmission");
    expect(await sql("SELECT status FROM feedback")).toEqual([{ status: "cancelled" }]);
    // ...but the agent had already posted it. The ack says so, and the drop shows it.
    const ack = await edge.agent("POST", `/v1/agent/feedback/${fid}/ack`, { status: "sent", waMessageId: "3EB0LATE", session: "sender" });
    expect(ack.body).toEqual({ id: fid, status: "sent" });
    const detail = (await edge.dash("GET", `/v1/drops/${drop}`)).body;
    expect(detail.feedback).toMatchObject([{ id: fid, status: "sent", sentAt: expect.any(String) }]);
    expect(detail.feedbackSentAt).toBe(detail.feedback[0].sentAt);
    expect(detail.status).toBe("resubmitted");
  });

  it("whatever the interleaving with the resubmission, a send acked after the cancel is on the drop", async () => {
    await setup();
    const drops = await newDrops(20, "DR7");
    await sql(
      `INSERT INTO feedback (drop_number, group_jid, text, due_at, status, attempts, claimed_until)
       SELECT drop_number, $1, 'QA: ' || drop_number, now(), 'claimed', 1, now() + interval '2 minutes' FROM drops`,
      [PROJECTS[0]!.groupJid],
    );
    // Remember, per message, whether it was cancelled before its send was recorded.
    await sql(`ALTER TABLE feedback ADD COLUMN was_cancelled boolean NOT NULL DEFAULT false`);
    await sql(`CREATE FUNCTION note_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.was_cancelled := OLD.was_cancelled OR NEW.status = 'cancelled'; RETURN NEW; END $$`);
    await sql(`CREATE TRIGGER note_cancel BEFORE UPDATE ON feedback FOR EACH ROW EXECUTE FUNCTION note_cancel()`);
    const ids = await sql<{ id: string; drop_number: string }>("SELECT id::text AS id, drop_number FROM feedback");
    await Promise.all([
      ...ids.map((f) => edge.agent("POST", `/v1/agent/feedback/${f.id}/ack`, { status: "sent", waMessageId: `WA-${f.id}` })),
      ...drops.map((d, i) => edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber: d, messageId: `again-${i}` })] })),
    ]);
    const rows = await sql(
      `SELECT f.status, f.was_cancelled, d.feedback_sent_at IS NOT NULL AS on_drop
       FROM feedback f JOIN drops d USING (drop_number)`,
    );
    expect(rows.every((r) => r.status === "sent")).toBe(true);
    // Cancelled first, then sent: the send is on the drop. (Sent first, the resubmission after it clears it.)
    for (const r of rows.filter((r) => r.was_cancelled)) expect(r.on_drop).toBe(true);
    for (const r of rows.filter((r) => !r.was_cancelled)) expect(r.on_drop).toBe(false);
  });
});

describe("concurrency", () => {
  it("4 cron runs and 4 agent polls in parallel never exceed the limits", async () => {
    await setup();
    await seedDue(1000);
    const now = new Date();
    const claimed = await Promise.all([
      ...Array.from({ length: 4 }, () => runScheduled(edge.env, () => now).then(() => [])),
      ...Array.from({ length: 4 }, () => edge.agent("GET", "/v1/agent/feedback?limit=50").then((r) => r.body.messages.map((m: any) => m.id))),
    ]);
    const ids = claimed.flat();
    expect(ids.length).toBeLessThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await sql("SELECT count(*)::int AS n FROM feedback_ledger")).toEqual([{ n: 2 }]);
    expect(await sql("SELECT count(*)::int AS n FROM feedback WHERE status = 'claimed'")).toEqual([{ n: 2 }]);
  });

  it("with room for all, 1,000 messages are each handed out exactly once across parallel polls", async () => {
    await setup({ FEEDBACK_PER_MINUTE: "5000", FEEDBACK_PER_HOUR: "5000", FEEDBACK_PER_DAY: "5000" });
    await seedDue(1000);
    const seen: string[] = [];
    for (let round = 0; round < 10 && seen.length < 1000; round++) {
      const now = new Date();
      const batches = await Promise.all([
        ...Array.from({ length: 4 }, () => runScheduled(edge.env, () => now).then(() => [] as string[])),
        ...Array.from({ length: 4 }, () => edge.agent("GET", "/v1/agent/feedback?limit=50").then((r) => r.body.messages.map((m: any) => m.id) as string[])),
      ]);
      seen.push(...batches.flat());
    }
    expect(seen).toHaveLength(1000);
    expect(new Set(seen).size).toBe(1000);
    expect(await sql("SELECT count(*)::int AS n, count(DISTINCT feedback_id)::int AS d FROM feedback_ledger")).toEqual([{ n: 1000, d: 1000 }]);
  });

  it("with room for all, one poll takes up to 500, never more than the slots left, oldest first", async () => {
    await setup({ FEEDBACK_PER_MINUTE: "700", FEEDBACK_PER_HOUR: "700", FEEDBACK_PER_DAY: "700", FEEDBACK_SAME_DROP_SECONDS: "0" });
    await seedDue(800);
    const first = await edge.agent("GET", "/v1/agent/feedback?limit=500");
    expect(first.status).toBe(200);
    expect(first.body.messages).toHaveLength(500);
    const ids = first.body.messages.map((m: any) => Number(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // 200 slots left of 700: the next poll gets 200 although it asks for 500, and the one after nothing.
    expect((await edge.agent("GET", "/v1/agent/feedback?limit=500")).body.messages).toHaveLength(200);
    expect((await edge.agent("GET", "/v1/agent/feedback?limit=500")).body.messages).toHaveLength(0);
    expect(await sql("SELECT count(*)::int AS n, count(DISTINCT feedback_id)::int AS d FROM feedback_ledger")).toEqual([{ n: 700, d: 700 }]);
    expect(await sql("SELECT status, count(*)::int AS n FROM feedback GROUP BY status ORDER BY status")).toEqual([
      { status: "claimed", n: 700 },
      { status: "pending", n: 100 },
    ]);
  });
});

describe("one unsent message per drop", () => {
  it("the database refuses a second pending or claimed message for a drop, so a claim never hands out two", async () => {
    await setup();
    const [drop] = await newDrops(1);
    await review(drop!, { status: "incomplete" });
    const second = (status: string) =>
      sql(`INSERT INTO feedback (drop_number, group_jid, text, due_at, status) VALUES ($1, $2, 'again', now(), $3)`, [drop, PROJECTS[0]!.groupJid, status]);
    await expect(second("pending")).rejects.toThrow(/feedback_unsent_drop_key/);
    await expect(second("claimed")).rejects.toThrow(/feedback_unsent_drop_key/);
    await second("sent"); // history is not limited
    expect(await sql("SELECT status, count(*)::int AS n FROM feedback GROUP BY status ORDER BY status")).toEqual([
      { status: "pending", n: 1 },
      { status: "sent", n: 1 },
    ]);
  });
});

describe("upgrading a database whose queue had messages in `ready`", () => {
  it("puts them back to pending, where the next poll claims them; a drop that held two unsent keeps the newer", async () => {
    const { adminUrl } = inject("pg");
    const name = `u_${randomBytes(6).toString("hex")}`;
    await ensureDatabase(adminUrl, name);
    const url = adminUrl.replace(/\/postgres$/, `/${name}`);
    // The migrations before the one that removes `ready`.
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();
    const upgrade = files.find((f) => f.endsWith("_feedback_without_ready.sql"))!;
    const before = await mkdtemp(path.join(tmpdir(), "wam-mig-"));
    try {
      for (const f of files.filter((f) => f < upgrade)) await cp(path.join(MIGRATIONS_DIR, f), path.join(before, f));
      await migrate(url, { dir: before });
    } finally {
      await rm(before, { recursive: true, force: true });
    }
    const old = (text: string, params: unknown[] = []) => query(url, text, params);
    const lawley = PROJECTS[0]!.groupJid;
    await old(`INSERT INTO projects (name, group_jid) VALUES ('Lawley', $1)`, [lawley]);
    await old(
      `INSERT INTO drops (drop_number, project_id, status, first_submitted_at, last_submitted_at)
       SELECT d, (SELECT id FROM projects), 'incomplete', now(), now() FROM unnest($1::text[]) d`,
      [["DR80000001", "DR80000002"]],
    );
    await old(
      `INSERT INTO feedback (drop_number, group_jid, text, status, due_at, ready_at) VALUES
         ('DR80000001', $1, 'was ready', 'ready', now() - interval '2 minutes', now() - interval '1 minute'),
         ('DR80000002', $1, 'older', 'pending', now() - interval '2 minutes', NULL),
         ('DR80000002', $1, 'newer', 'pending', now() - interval '1 minute', NULL)`,
      [lawley],
    );
    await migrate(url);
    expect(await old("SELECT drop_number, text, status FROM feedback ORDER BY id")).toEqual([
      { drop_number: "DR80000001", text: "was ready", status: "pending" },
      { drop_number: "DR80000002", text: "older", status: "cancelled" },
      { drop_number: "DR80000002", text: "newer", status: "pending" },
    ]);
    edge = await edgeHarness({ DATABASE_URL: url });
    const handed = await edge.agent("GET", "/v1/agent/feedback");
    expect(handed.body.messages.map((m: any) => m.text)).toEqual(["was ready", "newer"]);
  });
});

describe("sessions", () => {
  it("records heartbeats and flags sessions whose agent went quiet", async () => {
    await setup();
    const hb = {
      agent: "vps-1",
      sessions: [
        { name: "primary", role: "capture", state: "open", phone: "+27600000001", lastEventAt: new Date().toISOString() },
        { name: "sender", role: "sender", state: "qr", phone: null, lastEventAt: null },
      ],
    };
    expect((await edge.agent("POST", "/v1/agent/heartbeat", hb)).status).toBe(200);
    expect((await edge.agent("POST", "/v1/agent/heartbeat", { agent: "x", sessions: [{ name: "Bad Name" }] })).status).toBe(400);
    await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ session: "primary" })] });
    let list = await edge.dash("GET", "/v1/sessions");
    expect(list.body.sessions).toMatchObject([
      { agent: "vps-1", session: "primary", state: "open", stale: false, lastMessageAt: expect.any(String) },
      { agent: "vps-1", session: "sender", state: "qr", stale: false, lastMessageAt: null },
    ]);
    const r = await runScheduled(edge.env, () => plus(new Date(), 121));
    expect(r.staleSessions).toBe(2);
    list = await edge.dash("GET", "/v1/sessions");
    expect(list.body.sessions.map((b: any) => b.stale)).toEqual([true, true]);
    await edge.agent("POST", "/v1/agent/heartbeat", hb);
    list = await edge.dash("GET", "/v1/sessions");
    expect(list.body.sessions.map((b: any) => b.stale)).toEqual([false, false]);
    expect((await edge.agent("GET", "/v1/sessions")).status).toBe(401);
  });

  it("answers the deprecated GET /v1/bridges with the same sessions under the old name", async () => {
    await setup();
    await edge.agent("POST", "/v1/agent/heartbeat", {
      agent: "vps-1",
      sessions: [{ name: "primary", role: "capture", state: "open", phone: null, lastEventAt: null }],
    });
    const sessions = (await edge.dash("GET", "/v1/sessions")).body.sessions;
    expect(sessions).toHaveLength(1);
    expect((await edge.dash("GET", "/v1/bridges")).body).toEqual({ bridges: sessions });
    expect((await edge.agent("GET", "/v1/bridges")).status).toBe(401);
  });
});
