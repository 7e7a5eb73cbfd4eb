// The agent's record of feedback sends, on a real store: an intent, its send, its ack.
import { afterEach, describe, expect, it } from "vitest";
import { closeStore, openStore, type Db } from "../src/store/db.ts";
import { feedbackSends } from "../src/store/feedback-sends.ts";
import { tempDir } from "./helpers.ts";

let db: Db | undefined;
afterEach(() => {
  if (db) closeStore(db);
  db = undefined;
});

const intent = { id: "41", chatJid: "120363418298130331@g.us", dropNumber: "DR12345678", session: "sender", fallback: false, waMessageId: "3EB0AAAA" };

describe("feedback sends", () => {
  it("records an intent, then its send, then its ack; only sent and unacked records wait for an ack", async () => {
    db = openStore(await tempDir());
    const sends = feedbackSends(db);
    sends.recordIntent(intent, 1000);
    expect(sends.find("41")).toEqual({ ...intent, sentAt: null });
    expect(sends.unacked()).toEqual([]);
    sends.markSent("41", 2000);
    sends.recordIntent({ ...intent, id: "40", waMessageId: "3EB0BBBB" }, 500);
    sends.markSent("40", 1500);
    expect(sends.unacked().map((s) => [s.id, s.sentAt])).toEqual([["40", 1500], ["41", 2000]]);
    sends.markAcked("40");
    sends.markAcked("41", "edge answered 404 not_found");
    expect(sends.unacked()).toEqual([]);
    expect(db.prepare("SELECT id, acked_at IS NOT NULL AS acked, ack_error FROM feedback_sends ORDER BY id").all()).toEqual([
      { id: "40", acked: 1, ack_error: null },
      { id: "41", acked: 1, ack_error: "edge answered 404 not_found" },
    ]);
  });

  it("a new intent under a known id replaces the old record, send and ack included", async () => {
    db = openStore(await tempDir());
    const sends = feedbackSends(db);
    sends.recordIntent(intent);
    sends.markSent("41");
    sends.markAcked("41");
    const other = { ...intent, chatJid: "120363421664266245@g.us", dropNumber: null, session: "primary", fallback: true, waMessageId: "3EB0CCCC" };
    sends.recordIntent(other);
    expect(sends.find("41")).toEqual({ ...other, sentAt: null });
    expect(db.prepare("SELECT acked_at, ack_error FROM feedback_sends WHERE id = '41'").get()).toEqual({ acked_at: null, ack_error: null });
  });
});
