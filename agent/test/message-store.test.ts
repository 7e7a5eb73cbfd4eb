// How messages are kept: what Baileys' getMessage reads back, and stores written before the content column.
import { randomBytes } from "node:crypto";
import path from "node:path";
import Database from "better-sqlite3";
import { BufferJSON, proto, type WAMessage } from "baileys";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { monitoredGroups } from "../src/detect/projects.ts";
import { createMetrics } from "../src/metrics.ts";
import { closeStore, migrateStore, openStore, type Db } from "../src/store/db.ts";
import { messageReader } from "../src/store/messages.ts";
import { outboxStore } from "../src/store/outbox.ts";
import { createIngest } from "../src/whatsapp/ingest.ts";
import { LAWLEY, tempDir, testConfig } from "./helpers.ts";

function ingestInto(db: Db) {
  const config = testConfig();
  return createIngest({
    db,
    log: pino({ level: "silent" }),
    metrics: createMetrics(),
    groups: () => monitoredGroups(config),
    ownUsers: () => new Set<string>(),
    captures: () => true,
    onQueued: () => {},
  });
}

/** Content as Baileys hands it over: decoded from WhatsApp's protobuf (enums as numbers, bytes as Uint8Array). */
const decoded = (content: proto.IMessage) => proto.Message.decode(proto.Message.encode(content).finish());

function waMessage(id: string, message: proto.IMessage | null): WAMessage {
  return {
    key: {
      remoteJid: LAWLEY,
      id,
      fromMe: false,
      participant: "100200300400500@lid",
      participantAlt: "27821234567@s.whatsapp.net",
      addressingMode: "lid",
    },
    messageTimestamp: 1795500000,
    pushName: "Thabo",
    message,
  } as WAMessage;
}

describe("message store", () => {
  it("hands getMessage back the content exactly as Baileys decrypted it, with the key's v7 fields", async () => {
    const db = openStore(await tempDir());
    const contents: proto.IMessage[] = [
      {
        extendedTextMessage: {
          text: "DR12345678 done https://example.org",
          previewType: proto.Message.ExtendedTextMessage.PreviewType.VIDEO,
          contextInfo: { stanzaId: "3EB0AAAA", participant: "27829990000@s.whatsapp.net", mentionedJid: ["27829990000@s.whatsapp.net"] },
        },
        messageContextInfo: {
          deviceListMetadata: { senderKeyHash: randomBytes(10), senderTimestamp: 1795400000 },
          messageSecret: randomBytes(32),
        },
      },
      {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
          key: { remoteJid: LAWLEY, id: "3EB0ORIGINAL", fromMe: false },
          editedMessage: { conversation: "DR12345679" },
        },
      },
      { imageMessage: { caption: "house photo", mediaKey: randomBytes(32), jpegThumbnail: randomBytes(500), fileLength: 183_421 } },
    ];
    const sent = contents.map((c, i) => waMessage(`M${i}`, decoded(c)));
    await ingestInto(db).handle("primary", sent, "notify");

    const read = messageReader(db);
    for (const [i, original] of sent.entries()) {
      const back = read(LAWLEY, `M${i}`)!;
      // Byte for byte what WhatsApp sent: a retry re-encrypts exactly this.
      expect(Buffer.from(proto.Message.encode(back.message!).finish())).toEqual(Buffer.from(proto.Message.encode(original.message!).finish()));
      expect(back.key).toEqual(original.key);
      expect(back.pushName).toBe("Thabo");
    }
    closeStore(db);
  });

  it("keeps a message whose content Baileys' schema cannot encode, as text", async () => {
    const db = openStore(await tempDir());
    const odd = waMessage("ODD", { conversation: "DR12345678", extendedTextMessage: { text: { not: "a string" } } } as unknown as proto.IMessage);
    expect(await ingestInto(db).handle("primary", [odd], "notify")).toEqual({ stored: 1, queued: 1, media: 0 });
    expect(messageReader(db)(LAWLEY, "ODD")!.message).toEqual(JSON.parse(JSON.stringify(odd.message, BufferJSON.replacer)));
    closeStore(db);
  });

  it("carries undelivered drops of a store from before the session rename over, still naming their session", async () => {
    const dir = await tempDir();
    const old = new Database(path.join(dir, "agent.sqlite"));
    migrateStore(old, 4);
    old
      .prepare(
        `INSERT INTO outbox (chat_jid, message_id, drop_number, bridge, sender_jid, text, sent_at, created_at)
         VALUES (?, 'OLD1', 'DR12345678', 'backup', '27821234567@s.whatsapp.net', 'DR12345678 done', '2026-11-24T08:15:00.000Z', 1)`,
      )
      .run(LAWLEY);
    old.close();

    const db = openStore(dir);
    expect(outboxStore(db).pending(10).map((r) => [r.messageId, r.session])).toEqual([["OLD1", "backup"]]);
    closeStore(db);
  });

  it("carries messages of a store from before the content column over, readable and still deduplicated", async () => {
    const dir = await tempDir();
    const old = new Database(path.join(dir, "agent.sqlite"));
    old.pragma("journal_mode = WAL");
    migrateStore(old, 3);
    const before = waMessage("OLD1", { conversation: "DR12345678 done" });
    old
      .prepare(
        `INSERT INTO messages (session, chat_jid, message_id, sender_jid, sender_phone, sender_name, from_me, own, text, edit_of,
                               sent_at, upsert_type, raw, stored_at)
         VALUES ('primary', ?, 'OLD1', '100200300400500@lid', '+27821234567', 'Thabo', 0, 0, 'DR12345678 done', NULL, 1795500000000, 'notify', ?, 1)`,
      )
      .run(LAWLEY, JSON.stringify(before, BufferJSON.replacer));
    old.close();

    const db = openStore(dir);
    expect(db.pragma("user_version", { simple: true })).toBe(7);
    expect(messageReader(db)(LAWLEY, "OLD1")!.message).toEqual({ conversation: "DR12345678 done" });
    const again = ingestInto(db);
    // The same message again for the same session is a repeat; the backup number's copy is its own row.
    expect(await again.handle("primary", [before], "append")).toEqual({ stored: 0, queued: 0, media: 0 });
    expect(await again.handle("backup", [before], "notify")).toEqual({ stored: 1, queued: 1, media: 0 });
    expect(db.prepare("SELECT session, sender_phone FROM messages ORDER BY session").all()).toEqual([
      { session: "backup", sender_phone: "+27821234567" },
      { session: "primary", sender_phone: "+27821234567" },
    ]);
    closeStore(db);
  });
});
