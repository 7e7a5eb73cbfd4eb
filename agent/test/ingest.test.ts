// The message handler on a real SQLite store, fed real Baileys WAMessage shapes.
import { EventEmitter } from "node:events";
import { SUBMISSION_TEXT_MAX } from "@wa-monitor/shared";
import { proto, type WAMessage } from "baileys";
import pino from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { monitoredGroups } from "../src/detect/projects.ts";
import { createMetrics } from "../src/metrics.ts";
import { openStore, type Db } from "../src/store/db.ts";
import { outboxStore } from "../src/store/outbox.ts";
import { fitSubmissionText } from "../src/store/submission-text.ts";
import { createIngest } from "../src/whatsapp/ingest.ts";
import type { MessageEventSource } from "../src/whatsapp/session.ts";
import { wireMessageEvents } from "../src/whatsapp/wire.ts";
import { LAWLEY, tempDir, testConfig } from "./helpers.ts";

let db: Db;
let queuedSignals = 0;
let lidAsked: string[] = [];
const OWN = "27600000001";

function makeIngest(config = testConfig()) {
  return createIngest({
    db,
    log: pino({ level: "silent" }),
    metrics: createMetrics(),
    groups: () => monitoredGroups(config),
    ownUsers: () => new Set([OWN, "99990000000001"]),
    captures: (s) => s !== "sender",
    resolveLid: async (_s, lid) => {
      lidAsked.push(lid);
      return lid === "555000111@lid" ? "27825550111@s.whatsapp.net" : null;
    },
    historyDays: () => config.historyDays,
    onQueued: () => void queuedSignals++,
  });
}

function msg(over: Partial<WAMessage> & { text?: string; participant?: string; participantAlt?: string; id?: string; chat?: string }): WAMessage {
  const { text = "DR12345678", participant = "27821234567@s.whatsapp.net", participantAlt, id = "MSG1", chat = LAWLEY, ...rest } = over;
  return {
    key: { remoteJid: chat, id, fromMe: false, participant, ...(participantAlt ? { participantAlt } : {}) },
    message: { conversation: text },
    messageTimestamp: 1795500000,
    pushName: "Thabo",
    ...rest,
  } as WAMessage;
}

const outbox = () => db.prepare("SELECT message_id, drop_number, session, sender_phone, sender_name, sent_at, text FROM outbox ORDER BY id").all();
const messages = () => db.prepare("SELECT session, message_id, own, text FROM messages ORDER BY stored_at, message_id, session DESC").all();

beforeEach(async () => {
  db = openStore(await tempDir());
  queuedSignals = 0;
  lidAsked = [];
});

describe("ingest", () => {
  it("stores the message and queues its drop in one go, with sender and time", async () => {
    const r = await makeIngest().handle("primary", [msg({})], "notify");
    expect(r).toEqual({ stored: 1, queued: 1, media: 0 });
    expect(outbox()).toEqual([
      {
        message_id: "MSG1",
        drop_number: "DR12345678",
        session: "primary",
        sender_phone: "+27821234567",
        sender_name: "Thabo",
        sent_at: new Date(1795500000 * 1000).toISOString(),
        text: "DR12345678",
      },
    ]);
    expect(queuedSignals).toBe(1);
  });

  it("reads extended text, captions, and ephemeral / view-once wrappers", async () => {
    const ingest = makeIngest();
    const variants: proto.IMessage[] = [
      { extendedTextMessage: { text: "Done:\nDR00000001" } },
      { imageMessage: { caption: "dr-00000002 house photo" } },
      { videoMessage: { caption: "DR 00000003" } },
      { ephemeralMessage: { message: { conversation: "DR00000004" } } },
      { viewOnceMessageV2: { message: { imageMessage: { caption: "DR00000005" } } } },
    ];
    await ingest.handle(
      "primary",
      variants.map((message, i) => ({ ...msg({ id: `V${i}` }), message })),
      "notify",
    );
    expect(outbox().map((r: any) => r.drop_number)).toEqual(["DR00000001", "DR00000002", "DR00000003", "DR00000004", "DR00000005"]);
  });

  it("queues every drop of a message and nothing for near-misses", async () => {
    await makeIngest().handle("primary", [msg({ text: "DR10000001, DR10000002 and dr 10000003; not DR1234567 or ADR12345678" })], "notify");
    expect(outbox().map((r: any) => r.drop_number)).toEqual(["DR10000001", "DR10000002", "DR10000003"]);
  });

  it("ignores groups that are not monitored, and disabled projects", async () => {
    const config = testConfig();
    config.projects[1]!.enabled = false;
    const r = await makeIngest(config).handle(
      "primary",
      [msg({ chat: "120363000000000001@g.us" }), msg({ chat: config.projects[1]!.groupJid, id: "X" })],
      "notify",
    );
    expect(r).toEqual({ stored: 0, queued: 0, media: 0 });
    expect(messages()).toEqual([]);
  });

  it("stores but never submits messages from our own sessions", async () => {
    const ingest = makeIngest();
    await ingest.handle(
      "primary",
      [
        msg({ id: "F1", key: { remoteJid: LAWLEY, id: "F1", fromMe: true } }),
        msg({ id: "F2", participant: `${OWN}@s.whatsapp.net`, text: "QA feedback for DR12345678: missing ONT barcode" }),
        msg({ id: "F3", participant: "99990000000001@lid", text: "DR12345678" }),
      ],
      "notify",
    );
    expect(messages().map((m: any) => [m.message_id, m.own])).toEqual([
      ["F1", 1],
      ["F2", 1],
      ["F3", 1],
    ]);
    expect(outbox()).toEqual([]);
  });

  it("stores what a sender-only session sees without submitting it", async () => {
    await makeIngest().handle("sender", [msg({})], "notify");
    expect(messages()).toHaveLength(1);
    expect(outbox()).toEqual([]);
  });

  it("is idempotent per session, and the backup number's copy adds no second outbox row", async () => {
    const ingest = makeIngest();
    await ingest.handle("primary", [msg({})], "notify");
    await ingest.handle("primary", [msg({})], "append");
    await ingest.handle("backup", [msg({})], "notify");
    expect(messages().map((m: any) => m.session)).toEqual(["primary", "backup"]);
    expect(outbox().map((r: any) => r.session)).toEqual(["primary"]);
  });

  it("rescans an edited message: a drop the edit adds counts, under the original message id", async () => {
    const ingest = makeIngest();
    await ingest.handle("primary", [msg({ id: "ORIG", text: "DR20000001" })], "notify");
    const edit: WAMessage = {
      ...msg({ id: "EDIT1" }),
      message: {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
          key: { remoteJid: LAWLEY, id: "ORIG" },
          editedMessage: { conversation: "DR20000001 and DR20000002" },
        },
      },
    };
    await ingest.handle("primary", [edit], "notify");
    expect(outbox().map((r: any) => [r.message_id, r.drop_number])).toEqual([
      ["ORIG", "DR20000001"],
      ["ORIG", "DR20000002"],
    ]);
  });

  it("finds the phone of a LID sender from participantAlt, the LID table, or Baileys — and submits without one", async () => {
    const ingest = makeIngest();
    await ingest.handle("primary", [msg({ id: "L1", participant: "111@lid", participantAlt: "27831110000@s.whatsapp.net" })], "notify");
    ingest.rememberLids([{ lid: "222:4@lid", pn: "27832220000:4@s.whatsapp.net" }]);
    await ingest.handle("primary", [msg({ id: "L2", text: "DR00000022", participant: "222@lid" })], "notify");
    await ingest.handle("primary", [msg({ id: "L3", text: "DR00000033", participant: "555000111@lid" })], "notify");
    await ingest.handle("primary", [msg({ id: "L4", text: "DR00000044", participant: "777@lid" })], "notify");
    expect(outbox().map((r: any) => [r.message_id, r.sender_phone])).toEqual([
      ["L1", "+27831110000"],
      ["L2", "+27832220000"],
      ["L3", "+27825550111"],
      ["L4", null],
    ]);
    expect(lidAsked).toEqual(["555000111@lid", "777@lid"]);
    // What Baileys told us is remembered.
    await ingest.handle("primary", [msg({ id: "L5", text: "DR00000055", participant: "555000111@lid" })], "notify");
    expect(lidAsked).toHaveLength(2);
  });

  it("uses a project's own pattern", async () => {
    const config = testConfig();
    config.projects[0]!.pattern = String.raw`\bJOB[ -]?(\d{6})\b`;
    await makeIngest(config).handle("primary", [msg({ text: "job 123456 done, DR12345678" })], "notify");
    expect(outbox().map((r: any) => r.drop_number)).toEqual(["DR123456"]);
  });

  it("keeps the outbox and messages consistent when the batch fails", async () => {
    const ingest = makeIngest();
    const broken = { ...msg({ id: "B2" }), messageTimestamp: 1795500000 } as WAMessage;
    // A BigInt cannot be serialised: the whole batch is rolled back, the first message included.
    (broken as any).extra = 1n;
    await expect(ingest.handle("primary", [msg({ id: "B1" }), broken], "notify")).rejects.toThrow();
    expect(messages()).toEqual([]);
    expect(outboxStore(db).stats().pending).toBe(0);
  });

  it("waits for the real message when WhatsApp first delivers an undecryptable placeholder", async () => {
    const ingest = makeIngest();
    const placeholder = { key: { remoteJid: LAWLEY, id: "CIPH1", fromMe: false, participant: "27821234567@s.whatsapp.net" }, messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT, messageTimestamp: 1795500000 } as WAMessage;
    expect(await ingest.handle("primary", [placeholder], "notify")).toEqual({ stored: 0, queued: 0, media: 0 });
    expect(await ingest.handle("primary", [msg({ id: "CIPH1", text: "DR44440000" })], "notify")).toEqual({ stored: 1, queued: 1, media: 0 });
  });

  it("scans a message again when it was first stored without its text", async () => {
    const ingest = makeIngest();
    const bare = { ...msg({ id: "BARE1" }), message: { reactionMessage: { text: "👍" } } } as WAMessage;
    await ingest.handle("primary", [bare], "notify");
    expect(await ingest.handle("primary", [msg({ id: "BARE1", text: "DR44440001" })], "append")).toEqual({ stored: 1, queued: 1, media: 0 });
    expect(messages()).toHaveLength(1);
  });

  it("strips NUL characters from text and names", async () => {
    await makeIngest().handle("primary", [{ ...msg({ text: "DR12345678\u0000 ok" }), pushName: "Th\u0000abo" }], "notify");
    expect(outbox()).toMatchObject([{ text: "DR12345678 ok", sender_name: "Thabo" }]);
  });

  it("stores history older than historyDays without submitting it, and submits newer history", async () => {
    const ingest = makeIngest(testConfig({ historyDays: 3 }));
    // Through Baileys' own event, as pairing a number delivers it.
    const ev = new EventEmitter();
    const wiring = wireMessageEvents(ev as unknown as MessageEventSource, "primary", ingest, pino({ level: "silent" }), () => {});
    const daysAgo = (d: number) => Math.floor((Date.now() - d * 86_400_000) / 1000);
    ev.emit("messaging-history.set", {
      messages: [
        msg({ id: "H-OLD", text: "DR30000001", messageTimestamp: daysAgo(3.1) }),
        msg({ id: "H-NEW", text: "DR30000002", messageTimestamp: daysAgo(2.9) }),
      ],
    });
    await wiring.settled();
    expect(messages().map((m: any) => m.message_id).sort()).toEqual(["H-NEW", "H-OLD"]);
    expect(outbox().map((r: any) => r.drop_number)).toEqual(["DR30000002"]);
  });

  it("submits live and offline catch-up messages whatever their age", async () => {
    const ingest = makeIngest(testConfig({ historyDays: 3 }));
    const monthAgo = Math.floor((Date.now() - 30 * 86_400_000) / 1000);
    await ingest.handle("primary", [msg({ id: "N-OLD", text: "DR30000003", messageTimestamp: monthAgo })], "notify");
    await ingest.handle("primary", [msg({ id: "A-OLD", text: "DR30000004", messageTimestamp: monthAgo })], "append");
    expect(outbox().map((r: any) => r.drop_number)).toEqual(["DR30000003", "DR30000004"]);
  });

  it("delivers the drop of a message over the contract's text limit, truncating what is kept and submitted", async () => {
    const long = "x".repeat(SUBMISSION_TEXT_MAX + 5000) + " DR30000005";
    const r = await makeIngest().handle("primary", [{ ...msg({ id: "LONG1" }), message: { extendedTextMessage: { text: long } } }], "notify");
    expect(r).toEqual({ stored: 1, queued: 1, media: 0 });
    const [row] = outbox() as any[];
    expect(row.drop_number).toBe("DR30000005");
    expect(row.text).toBe(long.slice(0, SUBMISSION_TEXT_MAX));
    expect((messages()[0] as any).text).toHaveLength(SUBMISSION_TEXT_MAX);
  });

  it("never cuts a character in half when truncating", () => {
    const emoji = "\u{1F4F7}"; // two UTF-16 code units
    const text = "a".repeat(SUBMISSION_TEXT_MAX - 1) + emoji + "tail";
    const fitted = fitSubmissionText(text);
    expect(fitted).toBe("a".repeat(SUBMISSION_TEXT_MAX - 1));
    expect(fitSubmissionText("a".repeat(SUBMISSION_TEXT_MAX - 2) + emoji + "tail")).toBe("a".repeat(SUBMISSION_TEXT_MAX - 2) + emoji);
    expect(fitSubmissionText("short " + emoji)).toBe("short " + emoji);
  });
});
