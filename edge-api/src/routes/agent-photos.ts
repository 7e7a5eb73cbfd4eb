// The agent's photo uploads (AGENT_TOKEN): bytes by SHA-256 into R2 first, then each image message's record.
// Hono answers HEAD through a GET route (without the body), so GET /v1/agent/photos/blobs/{sha256} is also the
// cheap "does the edge have these bytes?" the agent asks with HEAD before uploading them.
import { createRoute, z } from "@hono/zod-openapi";
import {
  PHOTO_MAX_BYTES,
  PHOTO_MIMETYPES,
  PhotoBlobInfo,
  PhotoBlobResponse,
  PhotoMimetype,
  PhotosIngestRequest,
  PhotosIngestResponse,
  photoTypeOf,
  Sha256Hex,
} from "@wa-monitor/shared";
import { ingestPhotos } from "../db/photo-ingest.ts";
import { ApiError } from "../errors.ts";
import { agentToken, BODY, errors, json, jsonBody, routes, V1 } from "../http/openapi.ts";
import { blobInfo, missingBlobs, sha256Hex, storeBlob } from "../photos/blobs.ts";

const tags = ["agent"];
const LAWLEY = "120363418298130331@g.us";
const EXAMPLE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/** The PUT's path, which the app exempts from the 1 MiB body limit of /v1 (it has PHOTO_MAX_BYTES instead). */
export const PHOTO_BLOB_PUT = /^\/v1\/agent\/photos\/blobs\/[^/]+$/;

const BlobParams = z.object({
  sha256: Sha256Hex.meta({ description: "The SHA-256 of the bytes, as 64 lower-case hex digits.", example: EXAMPLE_SHA256 }),
});

const getBlob = createRoute({
  method: "get",
  path: "/v1/agent/photos/blobs/{sha256}",
  operationId: "getPhotoBlob",
  tags,
  summary: "Whether the edge has a photo's bytes",
  description: "200 with their size and type if R2 holds them, 404 if not. Ask with HEAD: the same answer without a body.",
  ...agentToken,
  request: { params: BlobParams },
  responses: { 200: json(PhotoBlobInfo, "The edge has them."), ...errors("unauthorized", "invalid_request", "not_found") },
});

// Documented per type; zod-openapi validates JSON and form bodies only, so the handler checks the type itself.
const binary = { schema: z.string().meta({ format: "binary", description: "The image file's bytes." }) };

const putBlob = createRoute({
  method: "put",
  path: "/v1/agent/photos/blobs/{sha256}",
  operationId: "putPhotoBlob",
  tags,
  summary: "Upload a photo's bytes",
  description:
    `The image file, up to ${PHOTO_MAX_BYTES} bytes, with its type as content-type. The edge hashes what it ` +
    "received and refuses bytes whose SHA-256 is not the path's, or that are not of the type named, storing " +
    "nothing. Idempotent: bytes already held answer `stored: false`.",
  ...agentToken,
  request: {
    params: BlobParams,
    body: { required: true, content: Object.fromEntries(PHOTO_MIMETYPES.map((t) => [t, binary])) },
  },
  responses: {
    200: json(PhotoBlobResponse, "The edge has the bytes."),
    ...errors("unauthorized", "invalid_request", "payload_too_large"),
  },
});

const postPhotos = createRoute({
  method: "post",
  path: "/v1/agent/photos",
  operationId: "postPhotos",
  tags,
  summary: "Ingest photo records",
  description:
    "1–100 image messages; one result per record, in order: `new`, `updated` (a record saying more than the one " +
    "stored, e.g. its bytes arrived after a failed download), `duplicate` (changes nothing), `unknown_group`, or " +
    "`missing_bytes` (a `stored` record whose bytes the edge lacks: upload them, then the record again; nothing " +
    "changes for it). Upload the bytes first. Safe to retry.",
  ...agentToken,
  request: {
    body: jsonBody(PhotosIngestRequest, {
      photos: [
        {
          chatJid: LAWLEY,
          messageId: "3EB0C0FFEE0000000001",
          session: "primary",
          senderJid: "27821234567@s.whatsapp.net",
          senderPhone: "+27821234567",
          senderName: "Thabo",
          sentAt: "2026-11-24T08:16:00.000Z",
          kind: "image",
          state: "stored",
          sha256: EXAMPLE_SHA256,
          mimetype: "image/jpeg",
          bytes: 183_211,
          width: 1600,
          height: 1200,
          caption: "DR12345678 ONT barcode",
          quotedId: null,
          captionDrops: ["DR12345678"],
          quotedDrops: [],
          thumbnail: null,
        },
      ],
    }),
  },
  responses: { 200: json(PhotosIngestResponse, "A result per record."), ...errors(...V1, ...BODY, "conflict") },
});

const mediaType = (header: string | undefined) => header?.split(";")[0]?.trim().toLowerCase() ?? "";

export const agentPhotos = routes()
  .openapi(getBlob, async (c) => {
    const { sha256 } = c.req.valid("param");
    const found = await blobInfo(c.var.config.PHOTOS, sha256);
    if (!found) throw new ApiError("not_found", `no photo bytes with SHA-256 ${sha256}`);
    return c.json({ sha256, bytes: found.bytes, mimetype: PhotoMimetype.catch("image/jpeg").parse(found.mimetype) }, 200);
  })
  .openapi(putBlob, async (c) => {
    const { sha256 } = c.req.valid("param");
    const type = PhotoMimetype.safeParse(mediaType(c.req.header("content-type")));
    if (!type.success) {
      throw new ApiError("invalid_request", `content-type must be one of ${PHOTO_MIMETYPES.join(", ")}`, [{ path: ["content-type"], message: "not a kept image type" }]);
    }
    const bytes = await c.req.arrayBuffer();
    if (bytes.byteLength === 0) throw new ApiError("invalid_request", "the body is empty");
    const actual = await sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ApiError("invalid_request", `the body's SHA-256 is ${actual}, not the path's ${sha256}`, [{ path: ["sha256"], message: "does not match the body" }]);
    }
    if (photoTypeOf(new Uint8Array(bytes)) !== type.data) {
      throw new ApiError("invalid_request", `the bytes are not ${type.data}`, [{ path: ["content-type"], message: "does not match the bytes" }]);
    }
    const stored = await storeBlob(c.var.config.PHOTOS, sha256, bytes, type.data);
    return c.json({ sha256, bytes: bytes.byteLength, stored }, 200);
  })
  .openapi(postPhotos, async (c) => {
    const { photos } = c.req.valid("json");
    const missing = await missingBlobs(
      c.var.config.PHOTOS,
      photos.flatMap((p) => (p.state === "stored" && p.sha256 ? [p.sha256] : [])),
    );
    const lacking = (p: (typeof photos)[number]) => p.state === "stored" && missing.has(p.sha256!);
    const ready = photos.filter((p) => !lacking(p));
    const statuses = ready.length ? await c.var.db.tx((q) => ingestPhotos(q, ready, c.var.config.PHOTO_WINDOW_MINUTES)) : [];
    let next = 0;
    const results = photos.map((p) => ({ messageId: p.messageId, status: lacking(p) ? ("missing_bytes" as const) : statuses[next++]! }));
    return c.json({ results }, 200);
  });
