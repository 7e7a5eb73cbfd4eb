// The photos behind the drops, for the dashboard (DASHBOARD_TOKEN): listed by group and day, their bytes from R2
// and their thumbnails, and a reviewer's step tag or link by hand.
import { createRoute, z } from "@hono/zod-openapi";
import { IsoTimestamp, PHOTO_MIMETYPES, PhotoListItem, PhotoPatchRequest, PhotosQuery, PhotosResponse } from "@wa-monitor/shared";
import { editPhoto } from "../db/photo-edits.ts";
import { listPhotos, photoBytesRef, photoThumbnail } from "../db/photo-views.ts";
import { ApiError } from "../errors.ts";
import { photoKey } from "../photos/blobs.ts";
import { BODY, dashboardToken, errors, json, jsonBody, routes, V1 } from "../http/openapi.ts";

const tags = ["dashboard"];

// Up to 18 digits: always within a bigint, so a malformed id is a 400 and never reaches the database.
const PHOTO_ID = /^[1-9][0-9]{0,17}$/;
const PhotoId = z.string().regex(PHOTO_ID, "a photo id: a positive whole number").meta({ example: "42" });
const OnePhoto = z.object({ id: PhotoId });

// Opaque to clients: base64url of [sentAt to the microsecond, id] of the last item on the page. Held to what a photo
// can have (a sentAt the ingest accepts, an id like the path's), so a forged one is refused here, not by Postgres.
const CursorTuple = z.tuple([IsoTimestamp, z.string().regex(PHOTO_ID)]);

function encodeCursor(at: string, id: string): string {
  return btoa(JSON.stringify([at, id])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = CursorTuple.parse(JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/"))));
    return { at, id };
  } catch {
    throw new ApiError("invalid_request", "invalid cursor", [{ path: ["cursor"], message: "not a cursor this API issued" }]);
  }
}

const bytes = (description: string, types: readonly string[]) => ({
  description,
  content: Object.fromEntries(types.map((t) => [t, { schema: z.string().meta({ format: "binary" }) }])),
});

const list = createRoute({
  method: "get",
  path: "/v1/photos",
  operationId: "listPhotos",
  tags,
  summary: "Photos",
  description:
    "Newest first, each with its group and the drops it is linked to. `project` (a name: all its groups), " +
    "`unlinked=true` only photos linked to no drop (`false`: only linked ones), `date` a local calendar day; keyset " +
    "pages: pass `nextCursor` as `cursor` for the next page.",
  ...dashboardToken,
  request: { query: PhotosQuery },
  responses: { 200: json(PhotosResponse, "A page of photos."), ...errors(...V1, "invalid_request") },
});

const original = createRoute({
  method: "get",
  path: "/v1/photos/{id}",
  operationId: "getPhoto",
  tags,
  summary: "A photo's bytes",
  description: "Exactly the bytes the agent uploaded, with their content type. 404 when the photo has none (too large, unsupported, failed).",
  ...dashboardToken,
  request: { params: OnePhoto },
  responses: { 200: bytes("The photo.", PHOTO_MIMETYPES), ...errors(...V1, "invalid_request", "not_found") },
});

const thumbnail = createRoute({
  method: "get",
  path: "/v1/photos/{id}/thumbnail",
  operationId: "getPhotoThumbnail",
  tags,
  summary: "A photo's thumbnail",
  description: "A small JPEG: WhatsApp's embedded thumbnail, or one made by the agent. 404 when the photo has none.",
  ...dashboardToken,
  request: { params: OnePhoto },
  responses: { 200: bytes("The thumbnail.", ["image/jpeg"]), ...errors(...V1, "invalid_request", "not_found") },
});

const edit = createRoute({
  method: "patch",
  path: "/v1/photos/{id}",
  operationId: "editPhoto",
  tags,
  summary: "Tag or link a photo",
  description:
    "`step` tags the photo with a QA step (null clears the tag). `dropNumber` links it to that drop by hand, or " +
    "with null unlinks it by hand; a manual link or unlink wins over the linking rules from then on. 404 for an " +
    "unknown photo or drop; nothing changes then.",
  ...dashboardToken,
  request: { params: OnePhoto, body: jsonBody(PhotoPatchRequest, { step: "house_photo", dropNumber: "DR12345678" }) },
  responses: { 200: json(PhotoListItem, "The photo as it now is, with the drops it is linked to."), ...errors(...V1, ...BODY, "not_found") },
});

const PRIVATE = { "cache-control": "private", "x-content-type-options": "nosniff" };

export const photos = routes()
  .openapi(list, async (c) => {
    const { cursor, ...q } = c.req.valid("query");
    const limit = Math.min(q.limit, c.var.config.FEED_MAX_LIMIT);
    const after = cursor ? decodeCursor(cursor) : undefined;
    const found = await listPhotos(c.var.db, { ...q, after, limit }, c.var.config.TIMEZONE);
    const last = found.length === limit ? found[found.length - 1] : undefined;
    const items = found.map(({ cursorAt: _, ...item }) => item);
    return c.json({ items, nextCursor: last ? encodeCursor(last.cursorAt, last.id) : null }, 200);
  })
  .openapi(original, async (c) => {
    const { id } = c.req.valid("param");
    const ref = await photoBytesRef(c.var.db, id);
    if (!ref) throw new ApiError("not_found", `no photo ${id}`);
    if (!ref.sha256) throw new ApiError("not_found", `photo ${id} was recorded without its bytes`);
    const object = await c.var.config.PHOTOS.get(photoKey(ref.sha256));
    if (!object) throw new ApiError("not_found", `the bytes of photo ${id} are not stored`);
    const type = ref.mimetype ?? object.httpMetadata?.contentType ?? "application/octet-stream";
    // workers-types' stream and the DOM's differ only in typing; at runtime it is the Worker's own ReadableStream.
    return c.body(object.body as unknown as ReadableStream, 200, { ...PRIVATE, "content-type": type, "content-length": String(object.size) });
  })
  .openapi(thumbnail, async (c) => {
    const { id } = c.req.valid("param");
    const found = await photoThumbnail(c.var.db, id);
    if (!found) throw new ApiError("not_found", `no photo ${id}`);
    if (!found.thumbnail) throw new ApiError("not_found", `photo ${id} has no thumbnail`);
    return c.body(found.thumbnail, 200, { ...PRIVATE, "content-type": "image/jpeg" });
  })
  .openapi(edit, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const outcome = await editPhoto(c.var.db, id, patch, c.var.config.PHOTO_WINDOW_MINUTES);
    if ("missing" in outcome) {
      throw new ApiError("not_found", outcome.missing === "photo" ? `no photo ${id}` : `no drop ${patch.dropNumber}`);
    }
    return c.json(outcome.found, 200);
  });
