// The photos behind each drop: what the agent uploads (bytes by SHA-256, then each image message's record) and
// what the dashboard reads. The bytes live in R2 keyed by their SHA-256; records and links live in Postgres.
import { z } from "zod";
// PhotoState, PhotoView and the enums it is made of live in contract.ts, beside the DropDetail that lists them
// (importing them from here would make the two modules import each other).
import { CalendarDate, DropNumber, GroupJid, IsoTimestamp, PhotoState, PhotoView, QaStep, SessionName, Text } from "./contract.ts";

/** The largest image the agent keeps and the edge stores (bigger ones are recorded without their bytes). */
export const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
export const PHOTO_MIMETYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export const PhotoMimetype = z.enum(PHOTO_MIMETYPES);
export type PhotoMimetype = z.infer<typeof PhotoMimetype>;

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 as 64 lower-case hex digits");

/** The kept type the bytes really are, from their first bytes (what the agent keeps and the edge stores); null
 * for anything else. */
export function photoTypeOf(b: Uint8Array): PhotoMimetype | null {
  const at = (i: number, ...bytes: number[]) => b.length >= i + bytes.length && bytes.every((x, k) => b[i + k] === x);
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp"; // RIFF....WEBP
  return null;
}

/** One image message in a monitored group, as the agent uploads its record (POST /v1/agent/photos). */
export const PhotoRecord = z
  .object({
    chatJid: GroupJid,
    messageId: Text(128).min(1),
    session: SessionName.meta({ description: "The session that recorded the image first." }),
    senderJid: Text(128).min(1),
    senderPhone: z.string().regex(/^\+?[0-9]{5,20}$/).nullish(),
    senderName: Text(200).nullish(),
    sentAt: IsoTimestamp,
    kind: z.enum(["image", "document"]).meta({ description: "A photo, or a document whose type is an image." }),
    state: PhotoState,
    sha256: Sha256Hex.nullable().meta({ description: "The bytes' SHA-256; required when `state` is `stored`, the bytes uploaded first." }),
    mimetype: PhotoMimetype.nullable(),
    bytes: z.number().int().min(0).max(PHOTO_MAX_BYTES).nullable(),
    width: z.number().int().min(0).nullish().meta({ description: "Pixels, as WhatsApp gives them; beyond 2^31 − 1 the edge records it as unknown." }),
    height: z.number().int().min(0).nullish().meta({ description: "Pixels, as WhatsApp gives them; beyond 2^31 − 1 the edge records it as unknown." }),
    caption: Text(4096).nullable(),
    quotedId: Text(128).nullable().meta({ description: "The message this image replies to." }),
    captionDrops: z.array(DropNumber).max(20).default([]).meta({ description: "Drops the caption names (the project's detector)." }),
    quotedDrops: z.array(DropNumber).max(20).default([]).meta({ description: "Drops the quoted message names." }),
    thumbnail: z
      .base64()
      .max(96 * 1024)
      .nullable()
      .meta({ description: "A small JPEG: WhatsApp's embedded thumbnail, or one made by the agent." }),
  })
  .refine((p) => p.state !== "stored" || (p.sha256 !== null && p.mimetype !== null && p.bytes !== null), {
    message: "a stored photo names its sha256, mimetype and bytes",
    path: ["sha256"],
  });
export type PhotoRecord = z.infer<typeof PhotoRecord>;

export const PhotosIngestRequest = z.object({ photos: z.array(PhotoRecord).min(1).max(100) });
export type PhotosIngestRequest = z.infer<typeof PhotosIngestRequest>;

/** Per record, in order: `new`, `updated` (a later state of the same message), `duplicate`, `unknown_group`, or
 * `missing_bytes` (a stored photo whose bytes the edge does not have: upload them, then the record again). */
export const PhotoIngestStatus = z.enum(["new", "updated", "duplicate", "unknown_group", "missing_bytes"]);
export const PhotosIngestResponse = z.object({
  results: z.array(z.object({ messageId: z.string(), status: PhotoIngestStatus })),
});
export type PhotosIngestResponse = z.infer<typeof PhotosIngestResponse>;

/** PUT /v1/agent/photos/blobs/:sha256 answer: whether this request stored the bytes (false: they were there). */
export const PhotoBlobResponse = z.object({ sha256: Sha256Hex, bytes: z.number().int(), stored: z.boolean() });
export type PhotoBlobResponse = z.infer<typeof PhotoBlobResponse>;
/** GET (and HEAD) /v1/agent/photos/blobs/:sha256 answer when the edge has the bytes. */
export const PhotoBlobInfo = z.object({ sha256: Sha256Hex, bytes: z.number().int(), mimetype: PhotoMimetype });

/** A photo in GET /v1/photos: with its group and the drops it is linked to. */
export const PhotoListItem = PhotoView.extend({
  project: z.string(),
  chatJid: z.string(),
  dropNumbers: z.array(DropNumber),
});
export const PhotosQuery = z.object({
  project: z.string().min(1).max(100).optional(),
  unlinked: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  date: CalendarDate.optional().meta({ description: "Only photos sent on this local day." }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export const PhotosResponse = z.object({ items: z.array(PhotoListItem), nextCursor: z.string().nullable() });

/** PATCH /v1/photos/:id: tag with a step, and/or link it to a drop (or unlink it) by hand. Manual links win. */
export const PhotoPatchRequest = z
  .object({
    step: QaStep.nullable().optional(),
    dropNumber: DropNumber.nullable().optional(),
  })
  .strict()
  .refine((p) => p.step !== undefined || p.dropNumber !== undefined, "name a step, a dropNumber, or both");
export type PhotoPatchRequest = z.infer<typeof PhotoPatchRequest>;
