// `npm run demo`'s simulated teams (tools/demo-traffic.ts) through a real agent on the simulator transport: the
// drops and the photos around them enter as real Baileys messages, and the agent downloads each photo through
// Baileys' decrypting path. The edge is out of the picture (an address nobody listens on): images do not need it.
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { demoTraffic } from "../../tools/demo-traffic.ts";
import { freePort } from "../../tools/ports.ts";
import type { Agent } from "../src/agent.ts";
import { eventually, startTestAgent } from "./helpers.ts";

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

/** mulberry32: the same choices on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Msg {
  /** The order the agent stored it in (the ticks post within the same second). */
  seq: number;
  chat_jid: string;
  message_id: string;
  sender_jid: string;
  text: string | null;
  sent_at: number;
}
interface Media {
  chat_jid: string;
  message_id: string;
  sender_jid: string;
  caption: string | null;
  quoted_id: string | null;
  mimetype: string;
  state: string;
  sent_at: number;
  bytes: Buffer | null;
}

const DROP = /\bDR[- ]?\d{8}\b/i;
const STEP_WORDS = ["house", "cable from pole", "entry outside", "entry inside", "wall", "ONT back", "power meter", "ONT barcode", "UPS serial", "final", "lights green", "signature"];

describe("demo traffic", () => {
  it("posts drops with photos around them: real JPEGs, with step captions and without, replies, another installer's", async () => {
    agent = await startTestAgent(`http://127.0.0.1:${await freePort()}`);
    const lines: string[] = [];
    const traffic = demoTraffic(agent.adminUrl, (l) => lines.push(l), seeded(10));
    for (let i = 0; i < 40; i++) await traffic.tick();
    expect(lines.filter((l) => l.startsWith("could not post"))).toEqual([]);

    const db = agent.db;
    const media = await eventually(
      async () =>
        db
          .prepare(
            `SELECT m.chat_jid, m.message_id, m.sender_jid, m.caption, m.quoted_id, m.mimetype, m.state, m.sent_at, b.bytes
             FROM media m LEFT JOIN media_blobs b ON b.sha256 = m.sha256 ORDER BY m.sent_at`,
          )
          .all() as Media[],
      (rs) => rs.length > 0 && rs.every((r) => r.state !== "pending_download"),
    );
    const messages = db
      .prepare("SELECT min(rowid) AS seq, chat_jid, message_id, sender_jid, text, sent_at FROM messages GROUP BY chat_jid, message_id ORDER BY seq")
      .all() as Msg[];
    const seq = (p: Media) => messages.find((m) => m.message_id === p.message_id && m.chat_jid === p.chat_jid)!.seq;
    const drops = messages.filter((m) => DROP.test(m.text ?? "") && !media.some((p) => p.message_id === m.message_id));

    // Real JPEGs, downloaded and decoded.
    expect(media.length).toBeGreaterThan(10);
    for (const p of media) {
      expect(p).toMatchObject({ mimetype: "image/jpeg", state: "downloaded" });
      expect(await sharp(p.bytes!).metadata()).toMatchObject({ format: "jpeg", width: 640, height: 480 });
    }
    // Both capture sessions saw every message.
    const seenBy = db.prepare("SELECT message_id, count(DISTINCT session) AS n FROM messages GROUP BY message_id").all() as { n: number }[];
    expect(seenBy.every((r) => r.n === 2)).toBe(true);

    // Captions: a step word, none at all, and the drop's number with a step word.
    expect(media.some((p) => !p.caption && !p.quoted_id)).toBe(true);
    expect(media.some((p) => STEP_WORDS.includes(p.caption ?? ""))).toBe(true);
    expect(media.some((p) => DROP.test(p.caption ?? "") && STEP_WORDS.some((w) => p.caption!.endsWith(" " + w)))).toBe(true);

    // Replies to the drop's own message, by its installer.
    const replies = media.filter((p) => p.quoted_id);
    expect(replies.length).toBeGreaterThan(0);
    for (const r of replies) {
      const quoted = drops.find((d) => d.message_id === r.quoted_id && d.chat_jid === r.chat_jid);
      expect(quoted?.sender_jid, r.message_id).toBe(r.sender_jid);
    }

    // Photos posted before their drop by the same installer, within minutes.
    const beforeOwnDrop = (p: Media) =>
      drops.some((d) => d.chat_jid === p.chat_jid && d.sender_jid === p.sender_jid && d.sent_at > p.sent_at && d.sent_at - p.sent_at <= 120_000);
    expect(media.filter(beforeOwnDrop).length).toBeGreaterThan(0);

    // Another installer's photo, without caption, posted right after someone else's drop in that group.
    const teammate = media.filter((p) => {
      const last = drops.filter((d) => d.chat_jid === p.chat_jid && d.seq < seq(p)).at(-1);
      return !p.caption && !p.quoted_id && !beforeOwnDrop(p) && last !== undefined && last.sender_jid !== p.sender_jid;
    });
    expect(teammate.length).toBeGreaterThan(0);
  }, 120_000);
});
