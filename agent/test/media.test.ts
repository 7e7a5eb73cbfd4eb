// Images from the groups, end to end inside the agent: simulated WhatsApp builds real image messages with
// Baileys (media key, encryption, hashes, thumbnail) and serves the encrypted files from its local media host;
// the agent records them with their message in real SQLite and downloads them through Baileys' own decrypting
// download. The edge is out of the picture (an address nobody listens on): images do not need it.
import { proto, type WAMessage } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../tools/ports.ts";
import type { Agent } from "../src/agent.ts";
import type { AgentConfig } from "../src/config.ts";
import { MEDIA_MAX_BYTES } from "../src/media/policy.ts";
import { buildWaMessage, simulatedPhone, type SimulatedSession } from "../src/whatsapp/simulator.ts";
import type { SimulatedImage } from "../src/whatsapp/sim-media-host.ts";
import { GIF, jpeg, jpegNoise, PNG, sha256, WEBP } from "./fixtures/images.ts";
import { eventually, LAWLEY, simulate, startTestAgent, testConfig } from "./helpers.ts";

let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const SENDER = "27821234567@s.whatsapp.net";

async function mediaAgent(media: Record<string, unknown> = {}, over: Partial<Record<string, unknown>> = {}): Promise<Agent> {
  const config: AgentConfig = testConfig({ media: { backoff: { initialMs: 50, maxMs: 200 }, ...media }, ...over });
  agent = await startTestAgent(`http://127.0.0.1:${await freePort()}`, { config });
  return agent;
}

const records = (a: Agent) =>
  a.db
    .prepare(
      "SELECT message_id, session, kind, state, mimetype, sha256, size, attempts, last_error, caption, quoted_id, url FROM media ORDER BY id",
    )
    .all() as any[];
const record = (a: Agent, id: string) => a.db.prepare("SELECT * FROM media WHERE message_id = ?").get(id) as any;
const blob = (a: Agent, hash: string) => (a.db.prepare("SELECT bytes FROM media_blobs WHERE sha256 = ?").get(hash) as any)?.bytes as Buffer | undefined;
const blobCount = (a: Agent) => (a.db.prepare("SELECT count(*) AS n FROM media_blobs").get() as any).n as number;
const settled = (a: Agent, n: number) =>
  eventually(async () => records(a), (rs) => rs.length === n && rs.every((r) => r.state !== "pending_download"));
const session = (a: Agent, name = "primary") => a.simulator!.sessions.get(name)! as SimulatedSession;
const files = (a: Agent) => a.simulator!.media!.files();
const requestsFor = (a: Agent, messageId: string) => files(a).filter((f) => f.messageId === messageId).reduce((n, f) => n + f.requests, 0);
const b64 = (b: Buffer) => b.toString("base64");

/** A message as a live session receives it, its media content built and uploaded by the simulated host first. */
async function mediaMessage(a: Agent, id: string, image: SimulatedImage, caption = "", wrap: (c: proto.IMessage) => proto.IMessage = (c) => c) {
  const content = await a.simulator!.media!.content(LAWLEY, id, image, caption);
  const ownJid = `${simulatedPhone({ name: "primary", role: "capture" })}@s.whatsapp.net`;
  return buildWaMessage({ chatJid: LAWLEY, senderJid: SENDER, senderName: "Thabo", text: caption, id }, ownJid, { media: wrap(content) });
}

describe("images from the groups", () => {
  it("records a captioned reply with its message, downloads it through Baileys, and still queues the caption's drop", async () => {
    const a = await mediaAgent();
    expect((await simulate(a.adminUrl, [{ session: "primary", text: "DR12345678 done", id: "T0" }])).status).toBe(200);
    const photo = jpeg("house");
    const r = await simulate(a.adminUrl, [
      { session: "primary", text: "DR12345678 house", id: "IMG1", quotedId: "T0", image: { data: b64(photo), mimetype: "image/jpeg" } } as any,
    ]);
    expect(r.status).toBe(200);
    await settled(a, 1);

    const rec = record(a, "IMG1");
    expect(rec).toMatchObject({
      chat_jid: LAWLEY,
      session: "primary",
      kind: "image",
      sender_jid: SENDER,
      sender_phone: "+27821234567",
      sender_name: "Thabo",
      caption: "DR12345678 house",
      quoted_id: "T0",
      mimetype: "image/jpeg",
      file_length: photo.length,
      state: "downloaded",
      sha256: sha256(photo),
      size: photo.length,
      attempts: 1,
      last_error: null,
      uploaded_at: null,
    });
    // WhatsApp's own hash of the bytes and its embedded thumbnail (a JPEG Baileys made when "sending").
    expect(Buffer.from(rec.file_sha256).toString("hex")).toBe(sha256(photo));
    expect(Buffer.from(rec.thumbnail).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(blob(a, sha256(photo))).toEqual(photo);
    expect(requestsFor(a, "IMG1")).toBe(1);

    // The message itself is stored as WhatsApp sent it: an imageMessage with key, location and hashes.
    const stored = a.db.prepare("SELECT content, text FROM messages WHERE message_id = 'IMG1'").get() as any;
    const image = proto.Message.decode(stored.content).imageMessage!;
    expect(image.mediaKey?.length).toBe(32);
    expect(image.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v\//);
    expect(image.fileEncSha256?.length).toBe(32);
    expect(image.contextInfo?.stanzaId).toBe("T0");
    expect(image.contextInfo?.participant).toBe(SENDER);
    expect(stored.text).toBe("DR12345678 house");
    // The caption is drop text, as before.
    expect(a.db.prepare("SELECT message_id, drop_number FROM outbox ORDER BY id").all()).toEqual([
      { message_id: "T0", drop_number: "DR12345678" },
      { message_id: "IMG1", drop_number: "DR12345678" },
    ]);

    // A text reply quoting the photo, as WhatsApp carries it: the quoted id, its sender and its content.
    await simulate(a.adminUrl, [{ session: "primary", text: "that pole again", id: "T2", quotedId: "IMG1" } as any]);
    const reply = a.db.prepare("SELECT content FROM messages WHERE message_id = 'T2'").get() as any;
    const context = proto.Message.decode(reply.content).extendedTextMessage!.contextInfo!;
    expect(context.stanzaId).toBe("IMG1");
    expect(context.quotedMessage?.imageMessage?.caption).toBe("DR12345678 house");

    const health = (await (await fetch(`${a.adminUrl}/health`)).json()) as any;
    expect(health.media).toMatchObject({ pending: 0, downloaded: 1, failed: 0, tooLarge: 0, unsupported: 0, blobs: 1, blobBytes: photo.length });
    const metrics = await (await fetch(`${a.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wa_media\{state="downloaded"\} 1$/m);
    expect(metrics).toMatch(/^wa_media\{state="pending_download"\} 0$/m);
    expect(metrics).toMatch(/^wa_media_downloads_total\{outcome="downloaded"\} 1$/m);
  });

  it("an image without caption is recorded and downloaded, and queues nothing; a sender session records none", async () => {
    const a = await mediaAgent();
    const r = await simulate(a.adminUrl, [
      { session: "sender", id: "SEEN-BY-SENDER", image: { data: b64(jpeg("s")), mimetype: "image/jpeg" } } as any,
      { session: "primary", id: "BARE", image: { data: b64(PNG), mimetype: "image/png" } } as any,
    ]);
    expect(r.status).toBe(200);
    await settled(a, 1);
    expect(records(a)).toMatchObject([{ message_id: "BARE", state: "downloaded", caption: null, mimetype: "image/png", sha256: sha256(PNG) }]);
    expect(a.db.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 0 });
    // The sender session keeps the message (for WhatsApp's retries), like any other.
    expect(a.db.prepare("SELECT count(*) AS n FROM messages WHERE message_id = 'SEEN-BY-SENDER'").get()).toEqual({ n: 1 });
    const page = await (await fetch(`${a.adminUrl}/`)).text();
    expect(page).toContain("Images: 1 downloaded, 0 waiting");
  });

  it("finds images in view-once and ephemeral wrappers and image documents, not stickers or other documents", async () => {
    const a = await mediaAgent();
    const messages: WAMessage[] = [
      await mediaMessage(a, "VIEW-ONCE", { data: jpeg("v1"), mimetype: "image/jpeg" }, "", (c) => ({ viewOnceMessageV2: { message: c } })),
      await mediaMessage(a, "EPHEMERAL", { data: jpeg("e1"), mimetype: "image/jpeg" }, "DR11112222 pole", (c) => ({ ephemeralMessage: { message: c } })),
      await mediaMessage(a, "DOC", { data: PNG, mimetype: "image/png", fileName: "ont.png" }),
      await mediaMessage(a, "DOC-CAPTION", { data: WEBP, mimetype: "image/webp", fileName: "wall.webp" }, "wall", (c) => ({
        documentWithCaptionMessage: { message: c },
      })),
      await mediaMessage(a, "PDF", { data: Buffer.from("%PDF-1.4 not an image"), mimetype: "application/pdf", fileName: "report.pdf" }),
    ];
    const sticker = await mediaMessage(a, "STICKER", { data: WEBP, mimetype: "image/webp" });
    sticker.message = { stickerMessage: { ...sticker.message!.imageMessage, caption: undefined } as proto.Message.IStickerMessage };
    messages.push(sticker);
    await session(a).deliver(messages);
    await settled(a, 4);
    expect(records(a).map(({ message_id, kind, state, mimetype, caption }) => ({ message_id, kind, state, mimetype, caption }))).toEqual([
      { message_id: "VIEW-ONCE", kind: "image", state: "downloaded", mimetype: "image/jpeg", caption: null },
      { message_id: "EPHEMERAL", kind: "image", state: "downloaded", mimetype: "image/jpeg", caption: "DR11112222 pole" },
      { message_id: "DOC", kind: "document", state: "downloaded", mimetype: "image/png", caption: null },
      { message_id: "DOC-CAPTION", kind: "document", state: "downloaded", mimetype: "image/webp", caption: "wall" },
    ]);
    expect(record(a, "DOC").file_name).toBe("ont.png");
    expect(blob(a, sha256(WEBP))).toEqual(WEBP);
    // A caption inside a wrapper is drop text too.
    expect(a.db.prepare("SELECT message_id, drop_number FROM outbox").all()).toEqual([{ message_id: "EPHEMERAL", drop_number: "DR11112222" }]);
  });

  it("keeps one record for a photo both numbers see, and one blob for the same bytes in two messages", async () => {
    const a = await mediaAgent();
    const photo = jpeg("shared");
    const image = { data: b64(photo), mimetype: "image/jpeg" };
    expect(
      (
        await simulate(a.adminUrl, [
          { session: "backup", id: "DUAL", text: "DR22223333", image } as any,
          { session: "primary", id: "DUAL", text: "DR22223333", image } as any,
        ])
      ).status,
    ).toBe(200);
    await settled(a, 1);
    // Both numbers stored the message; the first to see it recorded the image, and it was downloaded once.
    expect(a.db.prepare("SELECT session FROM messages WHERE message_id = 'DUAL' ORDER BY session").all()).toEqual([
      { session: "backup" },
      { session: "primary" },
    ]);
    expect(records(a)).toMatchObject([{ message_id: "DUAL", session: "backup", state: "downloaded" }]);
    expect(requestsFor(a, "DUAL")).toBe(1);

    // Forwarded: the same picture in another message is another record, but the same bytes.
    await simulate(a.adminUrl, [{ session: "primary", id: "FORWARD", text: "", image } as any]);
    await settled(a, 2);
    expect(records(a).map((r) => [r.message_id, r.sha256])).toEqual([
      ["DUAL", sha256(photo)],
      ["FORWARD", sha256(photo)],
    ]);
    expect(blobCount(a)).toBe(1);
  });

  it("records images over 10 MiB and types other than JPEG, PNG and WebP without their bytes", async () => {
    const a = await mediaAgent();
    const huge = jpegNoise(MEDIA_MAX_BYTES + 1);
    await session(a).inject([
      { chatJid: LAWLEY, senderJid: SENDER, text: "too big", id: "HUGE", image: { data: huge, mimetype: "image/jpeg" } },
      { chatJid: LAWLEY, senderJid: SENDER, text: "", id: "GIF", image: { data: GIF, mimetype: "image/gif" } },
      { chatJid: LAWLEY, senderJid: SENDER, text: "", id: "HEIC", image: { data: jpeg("heic"), mimetype: "image/heic", fileName: "a.heic" } },
      { chatJid: LAWLEY, senderJid: SENDER, text: "", id: "WEBP", image: { data: WEBP, mimetype: "image/webp" } },
    ]);
    await settled(a, 4);
    expect(records(a).map(({ message_id, state, sha256: hash }) => ({ message_id, state, hash }))).toEqual([
      { message_id: "HUGE", state: "too_large", hash: null },
      { message_id: "GIF", state: "unsupported", hash: null },
      { message_id: "HEIC", state: "unsupported", hash: null },
      { message_id: "WEBP", state: "downloaded", hash: sha256(WEBP) },
    ]);
    // Decided from what WhatsApp declared: not even fetched.
    expect(requestsFor(a, "HUGE") + requestsFor(a, "GIF") + requestsFor(a, "HEIC")).toBe(0);
    expect(blobCount(a)).toBe(1);
    // Still recorded with what phase B shows: sender, time, declared size, thumbnail (none for noise).
    expect(record(a, "HUGE")).toMatchObject({ file_length: MEDIA_MAX_BYTES + 1, sender_phone: "+27821234567", caption: "too big" });
  });

  it("checks the size and type again on the bytes themselves", async () => {
    const a = await mediaAgent();
    // A sender's client claiming a small file that is not.
    const liar = await mediaMessage(a, "LIAR", { data: jpegNoise(MEDIA_MAX_BYTES + 100_000), mimetype: "image/jpeg" });
    liar.message!.imageMessage!.fileLength = 1000;
    // Declared a JPEG, is not an image at all.
    const fake = await mediaMessage(a, "FAKE", { data: Buffer.from("GIF89a, or anything but JPEG"), mimetype: "image/jpeg" });
    // Declared a JPEG, is a PNG: kept, as what it is.
    const png = await mediaMessage(a, "PNG-AS-JPEG", { data: PNG, mimetype: "image/jpeg" });
    await session(a).deliver([liar, fake, png]);
    await settled(a, 3);
    expect(records(a).map(({ message_id, state, mimetype, last_error }) => ({ message_id, state, mimetype, last_error }))).toEqual([
      { message_id: "LIAR", state: "too_large", mimetype: "image/jpeg", last_error: `more than ${MEDIA_MAX_BYTES} bytes received` },
      { message_id: "FAKE", state: "unsupported", mimetype: "image/jpeg", last_error: "the bytes are not JPEG, PNG or WebP (declared image/jpeg)" },
      { message_id: "PNG-AS-JPEG", state: "downloaded", mimetype: "image/png", last_error: null },
    ]);
    expect(requestsFor(a, "LIAR")).toBe(1);
    expect(blobCount(a)).toBe(1);
  });

  it("verifies the bytes against WhatsApp's fileSha256, and gives up after maxAttempts", async () => {
    const a = await mediaAgent({ maxAttempts: 2 });
    const tampered = await mediaMessage(a, "TAMPERED", { data: jpeg("t"), mimetype: "image/jpeg" });
    tampered.message!.imageMessage!.fileSha256 = Buffer.alloc(32, 7);
    await session(a).deliver([tampered]);
    await settled(a, 1);
    expect(records(a)).toMatchObject([{ message_id: "TAMPERED", state: "failed", attempts: 2, sha256: null, last_error: "the bytes do not match WhatsApp's fileSha256" }]);
    expect(requestsFor(a, "TAMPERED")).toBe(2);
    expect(blobCount(a)).toBe(0);
  });

  it("asks the sender's phone for a re-upload when the media has expired, and downloads the new copy", async () => {
    const a = await mediaAgent();
    const photo = jpeg("old");
    await simulate(a.adminUrl, [{ session: "primary", id: "EXPIRED", text: "DR33334444", image: { data: b64(photo), mimetype: "image/jpeg", expired: true } } as any]);
    await settled(a, 1);
    const [expired, fresh] = files(a);
    expect(expired).toMatchObject({ messageId: "EXPIRED", gone: true, requests: 1 });
    expect(fresh).toMatchObject({ messageId: "EXPIRED", gone: false, requests: 1 });
    // One attempt: the 410, the re-upload, the download of the new copy; the new location is kept.
    expect(records(a)).toMatchObject([{ message_id: "EXPIRED", state: "downloaded", attempts: 1, url: fresh!.url, sha256: sha256(photo) }]);
    expect(blob(a, sha256(photo))).toEqual(photo);
  });

  it("asks for the re-upload through another number that saw the message when the first is closed", async () => {
    const a = await mediaAgent({ backoff: { initialMs: 2000, maxMs: 2000 } });
    const m = await mediaMessage(a, "VIA-BACKUP", { data: jpeg("via backup"), mimetype: "image/jpeg", expired: true });
    // The first attempt meets a busy server, which gives the test time to close primary before the second.
    a.simulator!.media!.failNext(m.message!.imageMessage!.url!, 503);
    await session(a, "primary").deliver([m]);
    await eventually(async () => record(a, "VIA-BACKUP"), (r) => r.attempts === 1);
    await session(a, "backup").deliver([m]);
    await session(a, "primary").stop();
    await settled(a, 1);
    expect(records(a)).toMatchObject([{ message_id: "VIA-BACKUP", session: "primary", state: "downloaded", attempts: 2 }]);
    expect(files(a).map((f) => f.gone)).toEqual([true, false]);
  });

  it("retries a failing media server with backoff until the image comes, or gives up", async () => {
    const a = await mediaAgent({ maxAttempts: 3 });
    const host = a.simulator!.media!;
    const ok = await mediaMessage(a, "FLAKY", { data: jpeg("flaky"), mimetype: "image/jpeg" });
    host.failNext(ok.message!.imageMessage!.url!, 500, 503);
    const bad = await mediaMessage(a, "BROKEN", { data: jpeg("broken"), mimetype: "image/jpeg" });
    host.failNext(bad.message!.imageMessage!.url!, 500, 500, 500, 500);
    await session(a).deliver([ok, bad]);
    await settled(a, 2);
    expect(records(a)).toMatchObject([
      { message_id: "FLAKY", state: "downloaded", attempts: 3, last_error: null },
      { message_id: "BROKEN", state: "failed", attempts: 3, sha256: null },
    ]);
    expect(records(a)[1].last_error).toMatch(/^download: Failed to fetch stream from http:\/\/127\.0\.0\.1:\d+\/v\/.*\.enc$/);
    expect(requestsFor(a, "FLAKY")).toBe(3);
    expect(requestsFor(a, "BROKEN")).toBe(3);
  });

  it("waits out its backoff before trying an image again", async () => {
    const a = await mediaAgent({ backoff: { initialMs: 60_000, maxMs: 120_000 } });
    const m = await mediaMessage(a, "LATER", { data: jpeg("later"), mimetype: "image/jpeg" });
    a.simulator!.media!.failNext(m.message!.imageMessage!.url!, 503);
    const before = Date.now();
    await session(a).deliver([m]);
    const rec = await eventually(async () => record(a, "LATER"), (r) => r.attempts === 1);
    expect(rec.state).toBe("pending_download");
    // Equal jitter: at least half the first delay.
    expect(rec.next_attempt_at).toBeGreaterThanOrEqual(before + 30_000);
    expect(requestsFor(a, "LATER")).toBe(1);
  });

  it("does not count it against an image when WhatsApp cannot be reached at all", async () => {
    const a = await mediaAgent({ maxAttempts: 1 });
    const m = await mediaMessage(a, "UNREACHABLE", { data: jpeg("u"), mimetype: "image/jpeg" });
    m.message!.imageMessage!.url = `http://127.0.0.1:${await freePort()}/v/gone.enc`;
    await session(a).deliver([m]);
    const rec = await eventually(async () => record(a, "UNREACHABLE"), (r) => r.last_error !== null);
    expect(rec).toMatchObject({ state: "pending_download", attempts: 0 });
    expect(rec.last_error).toMatch(/^download: fetch failed/);
    expect((await (await fetch(`${a.adminUrl}/health`)).json()).media).toMatchObject({ pending: 1, offline: true });
  });

  it("records images of old history without fetching them", async () => {
    const a = await mediaAgent({}, { historyDays: 1 });
    const old = await mediaMessage(a, "OLD", { data: jpeg("old"), mimetype: "image/jpeg" }, "DR44445555");
    old.messageTimestamp = Math.floor(Date.now() / 1000) - 3 * 86_400;
    const recent = await mediaMessage(a, "RECENT", { data: jpeg("recent"), mimetype: "image/jpeg" });
    await session(a).deliver([old, recent], "history");
    await settled(a, 2);
    expect(records(a).map(({ message_id, state }) => ({ message_id, state }))).toEqual([
      { message_id: "OLD", state: "skipped" },
      { message_id: "RECENT", state: "downloaded" },
    ]);
    expect(requestsFor(a, "OLD")).toBe(0);
  });

  it("refuses a bad simulated image with a 400, storing nothing", async () => {
    const a = await mediaAgent();
    const bad = await simulate(a.adminUrl, [{ session: "primary", id: "BAD", image: { data: "not base64!", mimetype: "image/jpeg" } } as any]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    const noText = await fetch(`${a.adminUrl}/simulate/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ session: "primary", chatJid: LAWLEY, senderJid: SENDER }] }),
    });
    expect(noText.status).toBe(400);
    expect(a.db.prepare("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM media) AS n").get()).toEqual({ n: 0 });
  });
});
