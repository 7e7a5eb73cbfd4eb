// What the agent tells the edge about an image, from its real store: the drops of the message it replies to come
// from the quote WhatsApp put in the reply, or else from the quoted message in the store; a record the contract
// would refuse is never sent as is.
import type { WAMessage } from "baileys";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createDropDetector } from "@wa-monitor/shared";
import { monitoredGroups } from "../src/detect/projects.ts";
import { photoRecordOf, type PhotoRecordDeps } from "../src/media/photo-record.ts";
import { quotedTextReader } from "../src/media/quoted.ts";
import { createMetrics } from "../src/metrics.ts";
import { openStore, type Db } from "../src/store/db.ts";
import { mediaUploads, type UploadRow } from "../src/store/media-uploads.ts";
import { createIngest } from "../src/whatsapp/ingest.ts";
import { LAWLEY, tempDir, testConfig } from "./helpers.ts";

let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

const SENDER = "27821234567@s.whatsapp.net";
const message = (id: string, content: WAMessage["message"]): WAMessage => ({
  key: { remoteJid: LAWLEY, id, fromMe: false, participant: SENDER },
  message: content,
  messageTimestamp: Math.floor(Date.now() / 1000),
  pushName: "Thabo",
});
const imageMessage = (quote: { stanzaId: string; quotedMessage?: { conversation: string } }) => ({
  imageMessage: {
    mimetype: "image/jpeg",
    caption: "pole",
    url: "http://127.0.0.1:1/x.enc",
    mediaKey: Buffer.alloc(32, 1),
    fileSha256: Buffer.alloc(32, 2),
    fileEncSha256: Buffer.alloc(32, 3),
    fileLength: 1000,
    contextInfo: { participant: SENDER, ...quote },
  },
});

async function store(messages: WAMessage[]) {
  db = openStore(await tempDir());
  const config = testConfig();
  const ingest = createIngest({ db, log: pino({ level: "silent" }), metrics: createMetrics(), groups: () => monitoredGroups(config), ownUsers: () => new Set(), captures: () => true, onQueued: () => {} });
  await ingest.handle("primary", messages, "notify");
  // As if downloads had given up on it: the record is ready to go up.
  db.prepare("UPDATE media SET state = 'failed'").run();
  return db;
}

const deps = (d: Db): PhotoRecordDeps => ({ detector: () => createDropDetector(), quotedText: quotedTextReader(d), bytes: () => undefined });
const row = (d: Db): UploadRow => mediaUploads(d).due(Date.now(), 10)[0]!;

describe("an image's record for the edge", () => {
  it("takes the quoted message's drops from the quote in the reply", async () => {
    const d = await store([message("IMG", imageMessage({ stanzaId: "GONE", quotedMessage: { conversation: "DR12345678 and DR23456789 done" } }))]);
    const built = await photoRecordOf(row(d), deps(d));
    expect(built).toMatchObject({ ok: true, record: { quotedId: "GONE", quotedDrops: ["DR12345678", "DR23456789"], captionDrops: [], state: "failed" } });
  });

  it("finds the quoted message in the store when the reply carries no quote", async () => {
    const d = await store([message("DROP", { conversation: "DR34567890 installed" }), message("IMG", imageMessage({ stanzaId: "DROP" }))]);
    const built = await photoRecordOf(row(d), deps(d));
    expect(built).toMatchObject({ ok: true, record: { quotedId: "DROP", quotedDrops: ["DR34567890"] } });
  });

  it("keeps a record the contract refuses from going up (and says why)", async () => {
    const d = await store([message("IMG", imageMessage({ stanzaId: "X" }))]);
    const bad = { ...row(d), messageId: "x".repeat(200) };
    const built = await photoRecordOf(bad, deps(d));
    expect(built).toEqual({ ok: false, error: expect.stringContaining("messageId") });
  });
});
