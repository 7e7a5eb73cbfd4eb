// The dashboard's read API (DASHBOARD_TOKEN).
import { DropNumber, FeedQuery, IsoTimestamp, ReviewRequest } from "@wa-monitor/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context.ts";
import { getDrop, listDrops } from "../db/feed.ts";
import { reviewDrop } from "../db/reviews.ts";
import { ApiError } from "../errors.ts";
import { requireToken } from "../http/auth.ts";
import { validate } from "../http/validate.ts";

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
    throw new ApiError(400, "invalid_request", "invalid cursor", [{ path: ["cursor"], message: "not a cursor this API issued" }]);
  }
}

export const drops = new Hono<AppEnv>()
  .use(requireToken("DASHBOARD_TOKEN"))
  .get("/", validate("query", FeedQuery), async (c) => {
    const q = c.req.valid("query");
    const limit = Math.min(q.limit, c.var.config.FEED_MAX_LIMIT);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const items = await listDrops(c.var.db, { ...q, after, limit }, c.var.config.TIMEZONE);
    const last = items.length === limit ? items[items.length - 1] : undefined;
    return c.json({ items, nextCursor: last ? encodeCursor(last.lastSubmittedAt, last.dropNumber) : null });
  })
  .get("/:dropNumber", validate("param", z.object({ dropNumber: DropNumber })), async (c) => {
    const { dropNumber } = c.req.valid("param");
    const drop = await getDrop(c.var.db, dropNumber);
    if (!drop) throw new ApiError(404, "not_found", `no drop ${dropNumber}`);
    return c.json(drop);
  })
  .patch(
    "/:dropNumber/review",
    validate("param", z.object({ dropNumber: DropNumber })),
    validate("json", ReviewRequest),
    async (c) => {
      const { dropNumber } = c.req.valid("param");
      const outcome = await reviewDrop(c.var.db, dropNumber, c.req.valid("json"), new Date());
      const drop = await getDrop(c.var.db, dropNumber);
      return c.json({ ...drop!, reviewId: outcome.reviewId, feedbackId: outcome.feedbackId });
    },
  );
