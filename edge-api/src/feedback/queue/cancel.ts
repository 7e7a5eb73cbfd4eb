// pending | claimed → cancelled: what a drop's unsent message said no longer holds (a newer review, or the
// installer posted the drop again). A claimed one may already be in the group; its "sent" ack still counts.
import type { Queryable } from "../../db/client.ts";

const CANCEL_UNSENT = /* sql */ `
  UPDATE feedback SET status = 'cancelled', claimed_until = NULL, error = $2, updated_at = now()
  WHERE drop_number = ANY($1::text[]) AND status IN ('pending', 'claimed')`;

/** The caller holds the drops' rows, so the drop is locked before its message, as everywhere. */
export async function cancelUnsent(q: Queryable, dropNumbers: string[], reason: string): Promise<void> {
  await q.query(CANCEL_UNSENT, [dropNumbers, reason]);
}
