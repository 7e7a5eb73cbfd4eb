import { beforeEach, describe, expect, it } from "vitest";
import { query } from "../../tools/test/db.ts";
import { openDb, type Queryable } from "../src/db/client.ts";
import { ingestSubmissions } from "../src/db/ingest.ts";
import { loadConfig } from "../src/env.ts";
import { edgeHarness, LAWLEY, PROJECTS, submission, type Edge } from "./harness.ts";

let edge: Edge;

beforeEach(async () => {
  edge = await edgeHarness();
  const r = await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS });
  expect(r.status).toBe(200);
});

async function post(subs: unknown[]) {
  const r = await edge.agent("POST", "/v1/agent/drops", { submissions: subs });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.results.map((x: { status: string }) => x.status) as string[];
}

const dbRows = <T = any>(sql: string, params: unknown[] = []) => query<T>(edge.databaseUrl, sql, params);

describe("POST /v1/agent/drops", () => {
  it("stores a new drop and its submission", async () => {
    expect(await post([submission({ dropNumber: "DR12345678", messageId: "m1" })])).toEqual(["new"]);
    const [drop] = await dbRows("SELECT * FROM drops");
    expect(drop).toMatchObject({ drop_number: "DR12345678", status: "new", resubmitted: false, submission_count: 1 });
    const subs = await dbRows("SELECT * FROM submissions");
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ message_id: "m1", session: "primary", sender_phone: "+27821234567" });
  });

  it("treats the same message from the backup session as a duplicate and keeps the first session", async () => {
    const msg = submission({ dropNumber: "DR12345678", messageId: "m1" });
    expect(await post([msg])).toEqual(["new"]);
    expect(await post([{ ...msg, session: "backup" }])).toEqual(["duplicate"]);
    expect(await post([msg])).toEqual(["duplicate"]);
    const subs = await dbRows("SELECT session FROM submissions");
    expect(subs).toEqual([{ session: "primary" }]);
    const [drop] = await dbRows("SELECT status, resubmitted, submission_count FROM drops");
    expect(drop).toEqual({ status: "new", resubmitted: false, submission_count: 1 });
  });

  it("takes the session from the deprecated `bridge` field of agents not yet updated, and refuses the two disagreeing", async () => {
    const { session: _, ...old } = submission({ dropNumber: "DR12345678", messageId: "m1" });
    expect(await post([{ ...old, bridge: "backup" }])).toEqual(["new"]);
    expect(await post([{ ...old, messageId: "m2", bridge: "backup", session: "backup" }])).toEqual(["resubmission"]);
    expect(await dbRows("SELECT session FROM submissions ORDER BY id")).toEqual([{ session: "backup" }, { session: "backup" }]);
    const [item] = (await edge.dash("GET", "/v1/drops")).body.items;
    expect(item).toMatchObject({ session: "backup", bridge: "backup" });
    for (const bad of [{ ...old, messageId: "m3", bridge: "backup", session: "primary" }, { ...old, messageId: "m4" }]) {
      const r = await edge.agent("POST", "/v1/agent/drops", { submissions: [bad] });
      expect(r.status).toBe(400);
      expect(r.body.error.details.map((i: { path: unknown[] }) => i.path.join("."))).toEqual(["bridge" in bad ? "submissions.0.bridge" : "submissions.0.session"]);
    }
    expect(await dbRows("SELECT count(*)::int AS n FROM submissions")).toEqual([{ n: 2 }]);
  });

  it("recognises a resubmission and resets the review state", async () => {
    expect(await post([submission({ dropNumber: "DR12345678", messageId: "m1" })])).toEqual(["new"]);
    // QA had marked it incomplete and feedback went out.
    await dbRows(
      "UPDATE drops SET status = 'incomplete', comment = 'no ONT barcode', feedback_sent_at = now(), house_photo = true",
    );
    const again = submission({ dropNumber: "DR12345678", messageId: "m2", sentAt: "2026-11-24T10:30:00.000Z" });
    expect(await post([again])).toEqual(["resubmission"]);
    const [drop] = await dbRows("SELECT * FROM drops");
    expect(drop.status).toBe("resubmitted");
    expect(drop.resubmitted).toBe(true);
    expect(drop.feedback_sent_at).toBeNull();
    expect(drop.submission_count).toBe(2);
    expect(drop.house_photo).toBe(true);
    // 10:30 UTC is 12:30 in Johannesburg.
    expect(drop.comment).toBe("no ONT barcode\nResubmitted 2026-11-24 12:30");
    expect(drop.last_submitted_at.toISOString()).toBe("2026-11-24T10:30:00.000Z");
    const flags = await dbRows("SELECT message_id, is_resubmission FROM submissions ORDER BY message_id");
    expect(flags).toEqual([
      { message_id: "m1", is_resubmission: false },
      { message_id: "m2", is_resubmission: true },
    ]);
  });

  it("answers each item in order within one batch, including in-batch repeats and unknown groups", async () => {
    const a = submission({ dropNumber: "DR00000001", messageId: "a" });
    const b = submission({ dropNumber: "DR00000002", messageId: "b" });
    const b2 = submission({ dropNumber: "DR00000002", messageId: "b2", sentAt: "2026-11-24T09:00:00.000Z" });
    const stranger = submission({ dropNumber: "DR00000003", messageId: "c", chatJid: "120363000000000000@g.us" });
    expect(await post([a, b, a, b2, stranger, { ...a, session: "backup" }])).toEqual([
      "new",
      "new",
      "duplicate",
      "resubmission",
      "unknown_group",
      "duplicate",
    ]);
    const drops = await dbRows("SELECT drop_number, status, submission_count FROM drops ORDER BY 1");
    expect(drops).toEqual([
      { drop_number: "DR00000001", status: "new", submission_count: 1 },
      { drop_number: "DR00000002", status: "resubmitted", submission_count: 2 },
    ]);
  });

  it("splits one message naming two drops into two submissions", async () => {
    const text = "DR00000011 and DR00000012 done";
    const results = await post([
      submission({ dropNumber: "DR00000011", messageId: "multi", text }),
      submission({ dropNumber: "DR00000012", messageId: "multi", text }),
    ]);
    expect(results).toEqual(["new", "new"]);
    expect(await dbRows("SELECT count(*)::int AS n FROM submissions WHERE message_id = 'multi'")).toEqual([{ n: 2 }]);
  });

  it("gives exactly one `new` to 20 concurrent posts of the same message", async () => {
    const msg = submission({ dropNumber: "DR55555555", messageId: "race" });
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post([{ ...msg, session: i % 2 ? "backup" : "primary" }])),
    );
    const flat = all.flat();
    expect(flat.filter((s) => s === "new")).toHaveLength(1);
    expect(flat.filter((s) => s === "duplicate")).toHaveLength(19);
    expect(await dbRows("SELECT count(*)::int AS n FROM submissions")).toEqual([{ n: 1 }]);
  });

  it("gives exactly one `new` to 20 concurrent different messages for one new drop", async () => {
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post([submission({ dropNumber: "DR66666666", messageId: `race-${i}` })])),
    );
    const flat = all.flat();
    expect(flat.filter((s) => s === "new")).toHaveLength(1);
    expect(flat.filter((s) => s === "resubmission")).toHaveLength(19);
    const [drop] = await dbRows("SELECT submission_count, status FROM drops");
    expect(drop).toEqual({ submission_count: 20, status: "resubmitted" });
  });

  it("uses a constant number of SQL statements whatever the batch size", async () => {
    const cfg = loadConfig(edge.env);
    const db = openDb(cfg);
    let count = 0;
    const counting = {
      tx: <T>(fn: (q: Queryable) => Promise<T>) =>
        db.tx((q) => fn({ query: (text, params) => (count++, q.query(text, params)) })),
    };
    try {
      await ingestSubmissions(counting, [submission({ dropNumber: "DR70000000", messageId: "x0" })], cfg.TIMEZONE, cfg.PHOTO_WINDOW_MINUTES);
      const one = count;
      count = 0;
      const batch = Array.from({ length: 500 }, (_, i) =>
        submission({ dropNumber: `DR7${String(i % 250).padStart(7, "0")}`, messageId: `y${i}` }),
      );
      const results = await ingestSubmissions(counting, batch, cfg.TIMEZONE, cfg.PHOTO_WINDOW_MINUTES);
      expect(results.filter((r) => r.status === "new")).toHaveLength(249); // DR70000000 existed already
      // Ingest; flag resubmissions with their drops' comments and feedback; relink the photos around the new posts.
      expect(count).toBeLessThanOrEqual(3);
      expect(one).toBeLessThanOrEqual(count);
      count = 0;
      await ingestSubmissions(counting, batch, cfg.TIMEZONE, cfg.PHOTO_WINDOW_MINUTES);
      expect(count).toBe(1); // all duplicates: nothing to settle, no photo to relink
    } finally {
      await db.end();
    }
  });

  it("writes each drop's row once per batch: created, or updated once knowing all its posts", async () => {
    const cfg = loadConfig(edge.env);
    /** Ingests on a connection of its own, as a Worker request does, and returns the row writes to drops that
     * its transaction made, read just before it commits (a backend's statistics include its earlier work until
     * they are flushed, hence the fresh connection). */
    async function writesOf(items: ReturnType<typeof submission>[]) {
      const db = openDb(cfg);
      let writes: { ins: number; upd: number } | undefined;
      try {
        const measured = {
          tx: <T>(fn: (q: Queryable) => Promise<T>) =>
            db.tx(async (q) => {
              const out = await fn(q);
              [writes] = await q.query<{ ins: number; upd: number }>(
                "SELECT n_tup_ins::int AS ins, n_tup_upd::int AS upd FROM pg_stat_xact_user_tables WHERE relname = 'drops'",
              );
              return out;
            }),
        };
        await ingestSubmissions(measured, items, cfg.TIMEZONE, cfg.PHOTO_WINDOW_MINUTES);
      } finally {
        await db.end();
      }
      return writes;
    }
    const batch = (salt: string, minute: string) =>
      Array.from({ length: 50 }, (_, i) =>
        submission({ dropNumber: `DR9${String(i).padStart(7, "0")}`, messageId: `${salt}${i}`, sentAt: `2026-11-24T09:${minute}:00.000Z` }),
      );
    expect(await writesOf(batch("first-", "10"))).toEqual({ ins: 50, upd: 0 });
    expect(await writesOf(batch("again-", "20"))).toEqual({ ins: 0, upd: 50 });
    expect(await writesOf(batch("earlier-", "05"))).toEqual({ ins: 0, upd: 50 });
    const [d] = await dbRows("SELECT submission_count, first_submitted_at, last_submitted_at FROM drops WHERE drop_number = 'DR90000000'");
    expect([d.submission_count, d.first_submitted_at.toISOString(), d.last_submitted_at.toISOString()]).toEqual([
      3,
      "2026-11-24T09:05:00.000Z",
      "2026-11-24T09:20:00.000Z",
    ]);
  });

  it("accepts a submission without phone or name", async () => {
    const r = await post([submission({ dropNumber: "DR12121212", senderPhone: null, senderName: undefined, senderJid: "12345@lid" })]);
    expect(r).toEqual(["new"]);
  });

  it("keeps the first project when a drop number appears in another group", async () => {
    await post([submission({ dropNumber: "DR31313131", messageId: "p1" })]);
    expect(await post([submission({ dropNumber: "DR31313131", messageId: "p2", chatJid: PROJECTS[1]!.groupJid })])).toEqual([
      "resubmission",
    ]);
    const [d] = await dbRows("SELECT p.group_jid FROM drops d JOIN projects p ON p.id = d.project_id");
    expect(d.group_jid).toBe(LAWLEY);
  });
});

describe("resubmissions go by WhatsApp time (sentAt), not by arrival", () => {
  // 20:00 UTC on the 23rd is 22:00 in Johannesburg, still the 23rd; 10:30 UTC on the 24th is 12:30 there.
  const EARLIER = "2026-11-23T20:00:00.000Z";
  const LATER = "2026-11-24T10:30:00.000Z";
  const DROP = "DR80000001";

  const detail = async () => (await edge.dash("GET", `/v1/drops/${DROP}`)).body;
  const flags = async () => (await detail()).submissions.map((s: any) => [s.messageId, s.resubmission]);
  const stats = async () => (await edge.dash("GET", "/v1/stats/daily?from=2026-11-23&to=2026-11-24")).body.days;

  async function expectEarlierIsTheOriginal() {
    expect(await flags()).toEqual([
      ["earlier", false],
      ["later", true],
    ]);
    const d = await detail();
    expect(d.comment).toBe("Resubmitted 2026-11-24 12:30"); // the later post's own local time
    expect([d.firstSubmittedAt, d.lastSubmittedAt]).toEqual([EARLIER, LATER]);
    expect(d.status).toBe("resubmitted");
    expect(await stats()).toEqual([
      { date: "2026-11-23", project: PROJECTS[0]!.name, new: 1, resubmitted: 0, complete: 0, incomplete: 0 },
      { date: "2026-11-24", project: PROJECTS[0]!.name, new: 0, resubmitted: 1, complete: 0, incomplete: 0 },
    ]);
  }

  it("a later post delivered first, the earlier one in a later batch", async () => {
    expect(await post([submission({ dropNumber: DROP, messageId: "later", sentAt: LATER })])).toEqual(["new"]);
    // The answer to the agent stays by arrival: the drop already existed.
    expect(await post([submission({ dropNumber: DROP, messageId: "earlier", sentAt: EARLIER })])).toEqual(["resubmission"]);
    await expectEarlierIsTheOriginal();
  });

  it("a later post and the earlier one in the same batch, later first", async () => {
    expect(
      await post([
        submission({ dropNumber: DROP, messageId: "later", sentAt: LATER }),
        submission({ dropNumber: DROP, messageId: "earlier", sentAt: EARLIER }),
      ]),
    ).toEqual(["resubmission", "new"]);
    await expectEarlierIsTheOriginal();
  });

  it("a late original behind a reviewed post keeps the review; a late post in between starts it over", async () => {
    expect(await post([submission({ dropNumber: DROP, messageId: "p3", sentAt: "2026-11-24T12:00:00.000Z" })])).toEqual(["new"]);
    const review = await edge.dash("PATCH", `/v1/drops/${DROP}/review`, { status: "incomplete", reviewer: "QA" });
    expect(review.status).toBe(200);
    await dbRows("UPDATE drops SET feedback_sent_at = '2026-11-24T12:30:00Z'");
    await dbRows("UPDATE feedback SET status = 'sent'");
    // The first post of the drop, delivered late: the reviewed post becomes the resubmission, the review stands.
    expect(await post([submission({ dropNumber: DROP, messageId: "p1", sentAt: "2026-11-24T08:00:00.000Z" })])).toEqual([
      "resubmission",
    ]);
    let d = await detail();
    expect(d.submissions.map((s: any) => [s.messageId, s.resubmission])).toEqual([
      ["p1", false],
      ["p3", true],
    ]);
    expect([d.status, d.feedbackSentAt, d.comment]).toEqual(["incomplete", "2026-11-24T12:30:00.000Z", "Resubmitted 2026-11-24 14:00"]);
    // A post between the two, delivered last, is a repost: the review starts over.
    await edge.dash("PATCH", `/v1/drops/${DROP}/review`, { status: "incomplete", reviewer: "QA" });
    expect(await post([submission({ dropNumber: DROP, messageId: "p2", sentAt: "2026-11-24T10:00:00.000Z" })])).toEqual([
      "resubmission",
    ]);
    d = await detail();
    expect(d.submissions.map((s: any) => [s.messageId, s.resubmission])).toEqual([
      ["p1", false],
      ["p2", true],
      ["p3", true],
    ]);
    expect([d.status, d.feedbackSentAt]).toEqual(["resubmitted", null]);
    expect(d.comment).toBe("Resubmitted 2026-11-24 14:00\nResubmitted 2026-11-24 12:00");
    expect(d.feedback.map((f: any) => f.status)).toEqual(["sent", "cancelled"]);
  });

  it("concurrent batches delivering one drop's posts in shuffled order agree on the earliest as the original", async () => {
    const times = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, 10, 24, 6, i)).toISOString());
    const shuffled = times.map((t, i) => ({ t, i, k: (i * 7) % 12 })).sort((a, b) => a.k - b.k);
    const all = await Promise.all(
      shuffled.map(({ t, i }) => post([submission({ dropNumber: DROP, messageId: `m${String(i).padStart(2, "0")}`, sentAt: t })])),
    );
    expect(all.flat().filter((s) => s === "new")).toHaveLength(1);
    const f = await flags();
    expect(f).toEqual(times.map((_, i) => [`m${String(i).padStart(2, "0")}`, i > 0]));
    const d = await detail();
    expect([d.firstSubmittedAt, d.lastSubmittedAt]).toEqual([times[0], times[11]]);
    expect(await dbRows("SELECT submission_count FROM drops")).toEqual([{ submission_count: 12 }]);
  });
});
