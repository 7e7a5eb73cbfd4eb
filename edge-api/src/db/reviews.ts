// A QA review in one transaction: merge the steps into the drop, keep the review in the history, count it in the
// daily stats, cancel any unsent feedback for the drop, and — when incomplete — schedule one feedback message for
// its group.
import { QA_STEP_KEYS, type QaSteps, type ReviewRequest } from "@wa-monitor/shared";
import { ApiError } from "../errors.ts";
import { composeFeedback } from "../feedback/message.ts";
import { cancelUnsent, scheduleFeedback } from "../feedback/queue/index.ts";
import type { Db, Queryable } from "./client.ts";
import { countReview } from "./daily-stats.ts";

const STEP_COLUMNS = QA_STEP_KEYS.join(", ");

const LOCK_DROP = /* sql */ `
  SELECT d.drop_number, d.project_id::text AS project_id, p.name AS project, p.group_jid, ${STEP_COLUMNS},
         (SELECT s.sender_jid FROM submissions s WHERE s.drop_number = d.drop_number
          ORDER BY s.sent_at DESC, s.id DESC LIMIT 1) AS installer_jid
  FROM drops d JOIN projects p ON p.id = d.project_id
  WHERE d.drop_number = $1
  FOR UPDATE OF d`;

const UPDATE_DROP = /* sql */ `
  UPDATE drops SET
    ${QA_STEP_KEYS.map((k, i) => `${k} = $${i + 2}`).join(", ")},
    status = $${QA_STEP_KEYS.length + 2},
    comment = coalesce($${QA_STEP_KEYS.length + 3}, comment),
    reviewer = $${QA_STEP_KEYS.length + 4},
    reviewed_at = $${QA_STEP_KEYS.length + 5},
    updated_at = $${QA_STEP_KEYS.length + 5}
  WHERE drop_number = $1`;

const INSERT_REVIEW = /* sql */ `
  INSERT INTO reviews (drop_number, status, steps, comment, reviewer, created_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  RETURNING id::text AS id`;

export interface ReviewOutcome {
  reviewId: string;
  feedbackId: string | null;
}

export async function reviewDrop(db: Pick<Db, "tx">, dropNumber: string, review: ReviewRequest, now: Date): Promise<ReviewOutcome> {
  return db.tx(async (q: Queryable) => {
    const [drop] = await q.query(LOCK_DROP, [dropNumber]);
    if (!drop) throw new ApiError("not_found", `no drop ${dropNumber}`);
    const steps = Object.fromEntries(QA_STEP_KEYS.map((k) => [k, review.steps[k] ?? drop[k] === true])) as QaSteps;
    await q.query(UPDATE_DROP, [
      dropNumber,
      ...QA_STEP_KEYS.map((k) => steps[k]),
      review.status,
      review.comment ?? null,
      review.reviewer,
      now,
    ]);
    const [rev] = await q.query<{ id: string }>(INSERT_REVIEW, [
      dropNumber,
      review.status,
      JSON.stringify(steps),
      review.comment ?? null,
      review.reviewer,
      now,
    ]);
    await cancelUnsent(q, [dropNumber], `superseded by review ${rev!.id}`);
    let feedbackId: string | null = null;
    if (review.status === "incomplete") {
      const msg = composeFeedback({
        dropNumber,
        project: String(drop.project),
        steps,
        comment: review.comment,
        installerJid: drop.installer_jid as string | null,
      });
      feedbackId = await scheduleFeedback(q, { ...msg, dropNumber, reviewId: rev!.id, groupJid: String(drop.group_jid), dueAt: now });
    }
    // Last: every review and ingest of the project today counts on the same row, held until COMMIT.
    await countReview(q, { dropNumber, projectId: String(drop.project_id), reviewId: rev!.id, createdAt: now });
    return { reviewId: rev!.id, feedbackId };
  });
}
