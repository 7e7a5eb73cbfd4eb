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
