import { describe, expect, it } from "vitest";
import { openStore } from "../src/store/db.ts";
import { pruneStore } from "../src/store/retention.ts";
import { tempDir } from "./helpers.ts";

describe("store retention", () => {
  it("removes old messages and delivered rows, never undelivered ones or sessions", async () => {
    const db = openStore(await tempDir());
    const day = 86_400_000;
    const now = Date.now();
    const insertMsg = db.prepare(
      "INSERT INTO messages (session, chat_jid, message_id, from_me, own, sent_at, upsert_type, raw, stored_at) VALUES ('primary', 'g@g.us', ?, 0, 0, 0, 'notify', '{}', ?)",
    );
    insertMsg.run("old", now - 100 * day);
    insertMsg.run("new", now - day);
    const insertOut = db.prepare(
      "INSERT INTO outbox (chat_jid, message_id, drop_number, session, sender_jid, text, sent_at, created_at, delivered_at) VALUES ('g@g.us', ?, 'DR12345678', 'primary', 's', 't', 'x', ?, ?)",
    );
    insertOut.run("delivered-old", now - 100 * day, now - 100 * day);
    insertOut.run("undelivered-old", now - 100 * day, null);
    insertOut.run("delivered-new", now - day, now - day);
    insertOut.run("rejected-old", now - 100 * day, now - 100 * day);
    db.prepare("UPDATE outbox SET result = 'rejected' WHERE message_id = 'rejected-old'").run();
    db.prepare("INSERT INTO wa_creds (session, creds) VALUES ('primary', '{}')").run();

    expect(pruneStore(db, 90 * day, now)).toMatchObject({ messages: 1, outbox: 1 });
    expect(db.prepare("SELECT message_id FROM messages").all()).toEqual([{ message_id: "new" }]);
    expect(db.prepare("SELECT message_id FROM outbox ORDER BY id").all()).toEqual([
      { message_id: "undelivered-old" },
      { message_id: "delivered-new" },
      { message_id: "rejected-old" },
    ]);
    expect(db.prepare("SELECT count(*) AS n FROM wa_creds").get()).toEqual({ n: 1 });
  });
});

describe("image retention", () => {
  it("removes bytes only a while after their upload, never bytes not yet uploaded, and shared bytes while any record needs them", async () => {
    const db = openStore(await tempDir());
    const day = 86_400_000;
    const now = Date.now();
    const blob = db.prepare("INSERT INTO media_blobs (sha256, size, stored_at, bytes) VALUES (?, 3, ?, x'010203')");
    const record = db.prepare(/* sql */ `
      INSERT INTO media (chat_jid, message_id, session, kind, from_me, sent_at, state, sha256, created_at, uploaded_at)
      VALUES ('g@g.us', ?, 'primary', 'image', 0, 0, 'downloaded', ?, ?, ?)`);
    const hashes = ["uploaded-long-ago", "uploaded-8-days-ago", "uploaded-lately", "never-uploaded", "shared", "orphan"];
    for (const h of hashes) blob.run(h, now - 200 * day);
    record.run("A", "uploaded-long-ago", now - 200 * day, now - 100 * day);
    record.run("B", "uploaded-8-days-ago", now - 10 * day, now - 8 * day);
    record.run("C", "uploaded-lately", now - 200 * day, now - 6 * day);
    // Downloaded 200 days ago (the edge was never reachable since): its bytes stay, whatever their age.
    record.run("D", "never-uploaded", now - 200 * day, null);
    // The same photo in two messages: one uploaded long enough ago, one not yet.
    record.run("E", "shared", now - 50 * day, now - 40 * day);
    record.run("F", "shared", now - 1 * day, null);

    const removed = pruneStore(db, 90 * day, now, 7 * day);
    expect(removed).toMatchObject({ mediaBytes: 3, mediaRecords: 1 });
    expect(db.prepare("SELECT sha256 FROM media_blobs ORDER BY sha256").all()).toEqual([
      { sha256: "never-uploaded" },
      { sha256: "shared" },
      { sha256: "uploaded-lately" },
    ]);
    // Records leave with the messages (90 days), and only once uploaded.
    expect(db.prepare("SELECT message_id FROM media ORDER BY message_id").all()).toEqual(
      ["B", "C", "D", "E", "F"].map((message_id) => ({ message_id })),
    );
  });
});
