// Sends the feedback the edge hands out, at most once: poll GET /v1/agent/feedback, and for each message
//   1. record the intent — the session and a WhatsApp message id derived from the feedback — before sending;
//   2. send under that id (through the sender session or, when it is down, another open one: the ack says so);
//   3. record the send as confirmed, then ack.
// A crash between 1 and 3 leaves an unconfirmed intent. When the edge hands the message out again it is sent again
// under the same id, through the same session, and WhatsApp takes it as the same message: the group sees it once.
// A confirmed send is only acked again. Records are keyed by the feedback id alone, so a changed EDGE_URL keeps them.
import { createHash } from "node:crypto";
import type { FeedbackHandOut } from "@wa-monitor/shared";
import type { Logger } from "pino";
import type { Db } from "../store/db.ts";
import { feedbackSends, type FeedbackSend } from "../store/feedback-sends.ts";
import type { WaSession } from "../whatsapp/session.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";
import { startLoop } from "./loop.ts";

/** A send is not started with less of the claim left than this: the send itself takes time. */
export const LEASE_MARGIN_MS = 10_000;

export interface FeedbackSenderOptions {
  db: Db;
  edge: EdgeClient;
  sessions: () => WaSession[];
  /** The groups of this agent's own projects: nothing is ever posted anywhere else. */
  groups: () => ReadonlySet<string>;
  log: Logger;
  pollMs: number;
  batchSize: number;
  backoff: { initialMs: number; maxMs: number };
  /** Not before the edge knows our projects and the agent is up. */
  ready?: () => boolean;
  /** Monotonic milliseconds (performance.now by default): claims are timed on this clock, never the wall clock. */
  now?: () => number;
}

/**
 * The WhatsApp message id a feedback message is sent under, the same on every hand-out. Shaped like Baileys' own
 * ids (3EB0 + upper-case hex). The chat and drop are hashed in too, so the same id from another edge database
 * (a different message) never collides with one already posted.
 */
export function feedbackMessageId(m: Pick<FeedbackHandOut, "id" | "chatJid" | "dropNumber">): string {
  const hash = createHash("sha256").update(`wa-monitor feedback\n${m.id}\n${m.chatJid}\n${m.dropNumber}`).digest("hex");
  return `3EB0${hash.slice(0, 18).toUpperCase()}`;
}

/** The sender session if it is open, else any other open session as a fallback. */
export function pickSender(sessions: WaSession[]): { session: WaSession; fallback: boolean } | null {
  const open = sessions.filter((s) => s.status().state === "open");
  const sender = open.find((s) => s.config.role === "sender" || s.config.role === "both");
  if (sender) return { session: sender, fallback: false };
  return open[0] ? { session: open[0], fallback: true } : null;
}

export function startFeedbackSender(opts: FeedbackSenderOptions) {
  const { db, edge, log } = opts;
  const now = opts.now ?? (() => performance.now());
  const sends = feedbackSends(db);

  async function ackSent(r: FeedbackSend) {
    try {
      await edge.ackFeedback(r.id, { status: "sent", waMessageId: r.waMessageId, session: r.session, fallback: r.fallback });
      sends.markAcked(r.id);
    } catch (err) {
      if (err instanceof EdgeError && !err.retryable && err.status !== 401) {
        // The edge will never take this ack (e.g. it no longer knows the id): keep the record, stop retrying.
        sends.markAcked(r.id, (err as Error).message);
        log.error({ id: r.id, err: (err as Error).message }, "the edge refused a feedback ack; giving up on it");
        return;
      }
      throw err;
    }
  }

  /** `claimedAt`: when we asked for the claim, on the monotonic clock — the earliest the edge can have started it. */
  async function handle(message: FeedbackHandOut, claimedAt: number): Promise<void> {
    const found = sends.find(message.id);
    // Ids are only unique per edge database: a record for another chat or drop is another message.
    const record =
      found && found.chatJid === message.chatJid && (found.dropNumber === null || found.dropNumber === message.dropNumber)
        ? found
        : undefined;
    if (found && !record) log.warn({ id: message.id }, "a feedback record under this id is for another message (another edge database?); replacing it");
    if (record?.sentAt != null) return ackSent(record); // sent already; only the ack was lost

    const fail = async (error: string) => {
      log.warn({ id: message.id, drop: message.dropNumber, error }, "feedback not sent");
      await edge.ackFeedback(message.id, { status: "failed", error, attempt: message.attempt });
    };
    if (!opts.groups().has(message.chatJid)) {
      return fail(`group ${message.chatJid} is not in this agent's projects; refusing to post there`);
    }
    // The claim is timed from the seconds the edge gave us, on our own monotonic clock: a skewed wall clock on
    // either side cannot make us send on a claim the edge may already have handed to someone else.
    const leftMs = message.leaseSeconds * 1000 - (now() - claimedAt);
    if (leftMs < LEASE_MARGIN_MS) {
      return fail(`claim about to expire (${Math.max(0, Math.floor(leftMs / 1000))} s left); not sent`);
    }

    let session: WaSession;
    let fallback: boolean;
    let waMessageId: string;
    if (record) {
      // Begun before and never confirmed (a crash, or a send that failed half-way): the same session and id again.
      const same = opts.sessions().find((s) => s.config.name === record.session && s.status().state === "open");
      if (!same) return fail(`session ${record.session}, which began sending this message, is not open; not sent by another`);
      session = same;
      fallback = record.fallback;
      waMessageId = record.waMessageId;
      log.warn({ id: message.id, session: record.session, waMessageId }, "resending feedback whose send was never confirmed, under the same message id");
    } else {
      const pick = pickSender(opts.sessions());
      if (!pick) return fail("no open WhatsApp session to send from");
      session = pick.session;
      fallback = pick.fallback;
      waMessageId = feedbackMessageId(message);
      sends.recordIntent({ id: message.id, chatJid: message.chatJid, dropNumber: message.dropNumber, session: session.config.name, fallback, waMessageId });
    }
    try {
      const sent = await session.send(message.chatJid, message.text, message.mentions, { messageId: waMessageId });
      if (sent.waMessageId !== waMessageId) log.warn({ id: message.id, waMessageId, got: sent.waMessageId }, "WhatsApp sent under another id");
    } catch (err) {
      // The intent stays: whether it reached WhatsApp or not, the next hand-out repeats it under the same id.
      return fail(`send via ${session.config.name}: ${(err as Error).message}`);
    }
    sends.markSent(message.id);
    if (fallback) log.warn({ id: message.id, via: session.config.name }, "sender session down: feedback sent by a fallback session");
    else log.info({ id: message.id, drop: message.dropNumber }, "feedback sent");
    await ackSent(sends.find(message.id)!);
  }

  async function cycle(): Promise<void> {
    // Acks that did not reach the edge last time go first.
    for (const row of sends.unacked()) await ackSent(row);
    if (opts.ready && !opts.ready()) return;
    // Claiming what we cannot send would only make it wait out a lease.
    if (!pickSender(opts.sessions())) return;
    const claimedAt = now();
    const messages = await edge.claimFeedback(opts.batchSize);
    for (const m of messages) await handle(m, claimedAt);
  }

  const loop = startLoop({
    pollMs: opts.pollMs,
    // A failing poll never comes round sooner than a normal one.
    backoff: { ...opts.backoff, minMs: opts.pollMs },
    pass: async () => {
      await cycle();
      return "idle";
    },
    onFailed: ({ err, retryInMs }) => log.warn({ err: (err as Error).message, retryInMs }, "feedback poll failed"),
  });

  return {
    /** Poll now rather than at the next interval. */
    wake: loop.wake,
    stop: loop.stop,
  };
}
