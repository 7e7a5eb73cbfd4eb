// The feedback queue: QA feedback waiting to be posted in a project's WhatsApp group, handed to agents under the
// rate limits. This comment is the one description of its states; each file beside it is one change of state.
//
//   schedule.ts  a review, incomplete            → pending        due at once
//   claim.ts     an agent's poll                 pending → claimed
//                    due, oldest first, not in its drop's quiet period, one rate-limit slot each, for a lease
//   ack.ts       the agent: posted               pending | claimed | failed | cancelled → sent
//                the agent: could not post       claimed → pending, or failed when out of attempts
//   release.ts   every poll first, and cron      claimed → pending, or failed when out of attempts:
//                    the lease ran out without an ack
//   cancel.ts    a newer review, a resubmission  pending | claimed → cancelled
//
// A drop has at most one unsent (pending or claimed) message: a unique index says so, and a review cancels the
// old one before it schedules the new. sent, failed and cancelled are final, except that a late "sent" ack still
// records the send: the message is in the group whatever the queue thought of it.
//
// The limits: a slot is a row in feedback_ledger, and the limits are counts of slots in sliding windows per
// sending number (minute, hour, day). A drop is quiet while another message of its own took a slot within
// FEEDBACK_SAME_DROP_SECONDS. Claims and releases hold a per-sender advisory lock (lock.ts), so overlapping polls
// and cron runs take turns and never exceed the limits; and since a slot is taken only at the claim, messages
// that pile up while no agent polls still leave at the limited pace, never in a burst.
export { acknowledge } from "./ack.ts";
export { cancelUnsent } from "./cancel.ts";
export { handOut } from "./claim.ts";
export type { Clock } from "./lock.ts";
export { releaseExpiredClaims, type Released } from "./release.ts";
export { scheduleFeedback } from "./schedule.ts";
