// The dashboard's drops: the feed, one drop, and its QA review (DASHBOARD_TOKEN).
import { createRoute, z } from "@hono/zod-openapi";
import { DropDetail, DropNumber, FeedQuery, FeedResponse, IsoTimestamp, ReviewRequest, ReviewResponse } from "@wa-monitor/shared";
import { getDrop, listDrops } from "../db/feed.ts";
import { reviewDrop } from "../db/reviews.ts";
import { ApiError } from "../errors.ts";
import { BODY, dashboardToken, errors, json, jsonBody, routes, V1 } from "../http/openapi.ts";

// Opaque to clients: base64url of [lastSubmittedAt, dropNumber] of the last item on the page.
const CursorTuple = z.tuple([IsoTimestamp, DropNumber]);

function encodeCursor(at: string, dropNumber: string): string {
  return btoa(JSON.stringify([at, dropNumber])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): { at: string; dropNumber: string } {
  try {
    const [at, dropNumber] = CursorTuple.parse(JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/"))));
    return { at, dropNumber };
  } catch {
    throw new ApiError("invalid_request", "invalid cursor", [{ path: ["cursor"], message: "not a cursor this API issued" }]);
  }
}

const tags = ["dashboard"];
const OneDrop = z.object({ dropNumber: DropNumber.meta({ example: "DR12345678" }) });

const feed = createRoute({
  method: "get",
  path: "/v1/drops",
  operationId: "listDrops",
  tags,
  summary: "The drop feed",
  description:
    "Newest activity first (a resubmission brings its drop to the top), filtered by project, status and local " +
    "calendar day; keyset pages: pass `nextCursor` as `cursor` for the next page.",
  ...dashboardToken,
  request: { query: FeedQuery },
  responses: { 200: json(FeedResponse, "A page of the feed."), ...errors(...V1, "invalid_request") },
});

const drop = createRoute({
  method: "get",
  path: "/v1/drops/{dropNumber}",
  operationId: "getDrop",
  tags,
  summary: "One drop",
  description: "The drop with all its submissions, reviews and feedback messages.",
  ...dashboardToken,
  request: { params: OneDrop },
  responses: { 200: json(DropDetail, "The drop."), ...errors(...V1, "invalid_request", "not_found") },
});

const review = createRoute({
  method: "patch",
  path: "/v1/drops/{dropNumber}/review",
  operationId: "reviewDrop",
  tags,
  summary: "Review a drop",
  description:
    "The checked steps are merged into the drop's (an unknown step is a 400). `incomplete` schedules one feedback " +
    "message to the project's group; `complete` cancels feedback that has not gone out.",
  ...dashboardToken,
  request: {
    params: OneDrop,
    body: jsonBody(ReviewRequest, { steps: { house_photo: true, ont_barcode: false }, status: "incomplete", comment: "ONT barcode is blurred", reviewer: "Anel" }),
  },
  responses: { 200: json(ReviewResponse, "The drop as reviewed."), ...errors(...V1, ...BODY, "not_found") },
});

export const drops = routes()
  .openapi(feed, async (c) => {
    const q = c.req.valid("query");
    const limit = Math.min(q.limit, c.var.config.FEED_MAX_LIMIT);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const items = await listDrops(c.var.db, { ...q, after, limit }, c.var.config.TIMEZONE);
    const last = items.length === limit ? items[items.length - 1] : undefined;
    return c.json({ items, nextCursor: last ? encodeCursor(last.lastSubmittedAt, last.dropNumber) : null }, 200);
  })
  .openapi(drop, async (c) => {
    const { dropNumber } = c.req.valid("param");
    const found = await getDrop(c.var.db, dropNumber);
    if (!found) throw new ApiError("not_found", `no drop ${dropNumber}`);
    return c.json(found, 200);
  })
  .openapi(review, async (c) => {
    const { dropNumber } = c.req.valid("param");
    const outcome = await reviewDrop(c.var.db, dropNumber, c.req.valid("json"), new Date());
    const reviewed = await getDrop(c.var.db, dropNumber);
    return c.json({ ...reviewed!, reviewId: outcome.reviewId, feedbackId: outcome.feedbackId }, 200);
  });
