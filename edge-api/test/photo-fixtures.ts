// Photos in the edge's tables, as photo ingest writes them: the record, then its links recomputed in the same
// transaction (relinkPhotos), through the Worker's own driver. Bytes go to the real local R2 bucket under
// photos/<sha256>, as the upload route stores them.
import { createHash } from "node:crypto";
import { suggestStep } from "@wa-monitor/shared";
import { query } from "../../tools/test/db.ts";
import { openDb, type Queryable } from "../src/db/client.ts";
import { relinkPhotos } from "../src/db/photo-links.ts";
import { loadConfig } from "../src/env.ts";
import { LAWLEY, type Edge } from "./harness.ts";
import type { LocalPhotoBucket } from "./r2.ts";

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

const INSERT = /* sql */ `
  INSERT INTO photos (project_id, chat_jid, message_id, session, sender_jid, sender_phone, sender_name, sent_at, kind,
                      state, sha256, mimetype, bytes, caption, quoted_id, caption_drops, quoted_drops, thumbnail,
                      suggested_step)
  SELECT p.id, $1, $2, 'primary', $3, $4, $5, $6, 'image', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
  FROM projects p WHERE p.group_jid = $1
  RETURNING id::text AS id`;

/** A sender of the tests' own: a JID and phone no other test uses. */
export function sender(n: number, name = `Installer ${n}`) {
  const digits = `2782${String(n).padStart(7, "0")}`;
  return { senderJid: `${digits}@s.whatsapp.net`, senderPhone: `+${digits}`, senderName: name };
}

export function photoFixtures(edge: Edge, bucket?: LocalPhotoBucket) {
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
      if (!bucket) throw new Error("a photo with bytes needs the R2 bucket");
      await bucket.put(`photos/${sha256}`, p.image.data, { httpMetadata: { contentType: p.image.mimetype } });
    }
    const caption = p.caption ?? null;
    return inTx(async (q) => {
      const [row] = await q.query<{ id: string }>(INSERT, [
        p.chatJid ?? LAWLEY,
        p.messageId ?? `img-${seq}-${Math.random().toString(36).slice(2)}`,
        p.senderJid ?? "27821234567@s.whatsapp.net",
        p.senderPhone === undefined ? "+27821234567" : p.senderPhone,
        p.senderName === undefined ? "Thabo" : p.senderName,
        p.sentAt,
        p.image ? "stored" : "too_large",
        sha256,
        p.image?.mimetype ?? null,
        p.image?.data.length ?? null,
        caption,
        p.quotedId ?? null,
        p.captionDrops ?? [],
        p.quotedDrops ?? [],
        p.thumbnail ? Buffer.from(p.thumbnail) : null,
        suggestStep(caption),
      ]);
      if (!row) throw new Error(`no project for ${p.chatJid}`);
      await relinkPhotos(q, { photoIds: [row.id] }, cfg.PHOTO_WINDOW_MINUTES);
      await opts.beforeCommit?.();
      return row.id;
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
