// Photos in the edge's tables through photo ingest itself (ingestPhotos: the record, then its links recomputed in the
// same transaction), on the Worker's own driver, with a hook inside that transaction so a test can interleave
// writers. Bytes go to the edge's real local R2 bucket under photos/<sha256>, as the upload route stores them.
import { createHash } from "node:crypto";
import { PhotoRecord } from "@wa-monitor/shared";
import { query } from "../../tools/test/db.ts";
import { openDb, type Queryable } from "../src/db/client.ts";
import { ingestPhotos } from "../src/db/photo-ingest.ts";
import { relinkPhotos } from "../src/db/photo-links.ts";
import { loadConfig } from "../src/env.ts";
import { LAWLEY, type Edge } from "./harness.ts";

export interface PhotoInput {
  chatJid?: string;
  messageId?: string;
  senderJid?: string;
  senderPhone?: string | null;
  senderName?: string | null;
  sentAt: string;
  caption?: string | null;
  quotedId?: string | null;
  captionDrops?: string[];
  quotedDrops?: string[];
  /** The image: stored in R2 (needs a bucket) and recorded as `stored`; without it the photo has no bytes. */
  image?: { data: Uint8Array; mimetype: "image/jpeg" | "image/png" | "image/webp" };
  thumbnail?: Uint8Array | null;
}

/** A sender of the tests' own: a JID and phone no other test uses. */
export function sender(n: number, name = `Installer ${n}`) {
  const digits = `2782${String(n).padStart(7, "0")}`;
  return { senderJid: `${digits}@s.whatsapp.net`, senderPhone: `+${digits}`, senderName: name };
}

export function photoFixtures(edge: Edge) {
  const cfg = loadConfig(edge.env);
  let seq = 0;

  /** Runs fn in a transaction on a connection of its own, as a Worker request would. */
  async function inTx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const db = openDb(cfg);
    try {
      return await db.tx(fn);
    } finally {
      await db.end();
    }
  }

  /** Records a photo and links it, as photo ingest does; answers its id. `beforeCommit` runs in its transaction,
   * after the links are written: a test can hold the transaction open there. */
  async function addPhoto(p: PhotoInput, opts: { beforeCommit?: () => Promise<void> } = {}): Promise<string> {
    seq += 1;
    let sha256: string | null = null;
    if (p.image) {
      sha256 = createHash("sha256").update(p.image.data).digest("hex");
      await edge.env.PHOTOS.put(`photos/${sha256}`, p.image.data, { httpMetadata: { contentType: p.image.mimetype } });
    }
    const chatJid = p.chatJid ?? LAWLEY;
    const messageId = p.messageId ?? `img-${seq}-${Math.random().toString(36).slice(2)}`;
    const record = PhotoRecord.parse({
      chatJid,
      messageId,
      session: "primary",
      senderJid: p.senderJid ?? "27821234567@s.whatsapp.net",
      senderPhone: p.senderPhone === undefined ? "+27821234567" : p.senderPhone,
      senderName: p.senderName === undefined ? "Thabo" : p.senderName,
      sentAt: p.sentAt,
      kind: "image",
      state: p.image ? "stored" : "too_large",
      sha256,
      mimetype: p.image?.mimetype ?? null,
      bytes: p.image?.data.length ?? null,
      caption: p.caption ?? null,
      quotedId: p.quotedId ?? null,
      captionDrops: p.captionDrops ?? [],
      quotedDrops: p.quotedDrops ?? [],
      thumbnail: p.thumbnail ? Buffer.from(p.thumbnail).toString("base64") : null,
    });
    return inTx(async (q) => {
      const [status] = await ingestPhotos(q, [record], cfg.PHOTO_WINDOW_MINUTES);
      if (status !== "new") throw new Error(`photo ingest answered ${status} for ${chatJid}/${messageId}`);
      await opts.beforeCommit?.();
      const [row] = await q.query<{ id: string }>("SELECT id::text AS id FROM photos WHERE chat_jid = $1 AND message_id = $2", [chatJid, messageId]);
      return row!.id;
    });
  }

  /** Recomputes the links of every photo from scratch; answers how many links that changed (0: they were right). */
  async function relinkAll(): Promise<number> {
    const ids = (await query<{ id: string }>(edge.databaseUrl, "SELECT id::text AS id FROM photos")).map((r) => r.id);
    return inTx(async (q) => (await relinkPhotos(q, { photoIds: ids }, cfg.PHOTO_WINDOW_MINUTES)).changes);
  }

  /** A photo's links as stored: [dropNumber, linkedBy], by drop. */
  async function linksOf(id: string): Promise<[string, string][]> {
    const rows = await query<{ drop_number: string; linked_by: string }>(
      edge.databaseUrl,
      "SELECT drop_number, linked_by FROM photo_links WHERE photo_id = $1 ORDER BY drop_number",
      [id],
    );
    return rows.map((r) => [r.drop_number, r.linked_by]);
  }

  return { addPhoto, relinkAll, linksOf, inTx };
}
