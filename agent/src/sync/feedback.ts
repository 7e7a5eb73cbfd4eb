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
import type { WaSession } from "../whatsapp/session.ts";
import { backoffDelay, wakeableSleep } from "./backoff.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";

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

interface SendRecord {
  id: string;
  chat_jid: string;
  drop_number: string | null;
  session: string;
  fallback: number;
  wa_message_id: string;
  sent_at: number | null;
}

export function startFeedbackSender(opts: FeedbackSenderOptions) {
  const { db, edge, log } = opts;
  const now = opts.now ?? (() => performance.now());
  const sleeper = wakeableSleep();
  let stopped = false;
  let failures = 0;

  const findRecord = db.prepare<[string], SendRecord>(
    "SELECT id, chat_jid, drop_number, session, fallback, wa_message_id, sent_at FROM feedback_sends WHERE id = ?",
  );
  const recordIntent = db.prepare(/* sql */ `
    INSERT INTO feedback_sends (id, chat_jid, drop_number, session, fallback, wa_message_id, intended_at)
    VALUES (@id, @chatJid, @dropNumber, @session, @fallback, @waMessageId, @at)
    ON CONFLICT (id) DO UPDATE SET
      chat_jid = excluded.chat_jid, drop_number = excluded.drop_number, session = excluded.session,
      fallback = excluded.fallback, wa_message_id = excluded.wa_message_id, intended_at = excluded.intended_at,
      sent_at = NULL, acked_at = NULL, ack_error = NULL`);
  const markSent = db.prepare("UPDATE feedback_sends SET sent_at = ? WHERE id = ?");
  const markAcked = db.prepare("UPDATE feedback_sends SET acked_at = ?, ack_error = ? WHERE id = ?");
  const unacked = db.prepare<[], SendRecord>(
    "SELECT id, chat_jid, drop_number, session, fallback, wa_message_id, sent_at FROM feedback_sends WHERE sent_at IS NOT NULL AND acked_at IS NULL ORDER BY sent_at LIMIT 100",
  );

  async function ackSent(r: SendRecord) {
    try {
      await edge.ackFeedback(r.id, { status: "sent", waMessageId: r.wa_message_id, session: r.session, fallback: r.fallback === 1 });
      markAcked.run(Date.now(), null, r.id);
    } catch (err) {
      if (err instanceof EdgeError && !err.retryable && err.status !== 401) {
        // The edge will never take this ack (e.g. it no longer knows the id): keep the record, stop retrying.
        markAcked.run(Date.now(), (err as Error).message, r.id);
        log.error({ id: r.id, err: (err as Error).message }, "the edge refused a feedback ack; giving up on it");
        return;
      }
      throw err;
    }
  }

  /** `claimedAt`: when we asked for the claim, on the monotonic clock — the earliest the edge can have started it. */
  async function handle(message: FeedbackHandOut, claimedAt: number): Promise<void> {
    const found = findRecord.get(message.id);
    // Ids are only unique per edge database: a record for another chat or drop is another message.
    const record =
      found && found.chat_jid === message.chatJid && (found.drop_number === null || found.drop_number === message.dropNumber)
        ? found
        : undefined;
    if (found && !record) log.warn({ id: message.id }, "a feedback record under this id is for another message (another edge database?); replacing it");
    if (record?.sent_at != null) return ackSent(record); // sent already; only the ack was lost

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
      fallback = record.fallback === 1;
      waMessageId = record.wa_message_id;
      log.warn({ id: message.id, session: record.session, waMessageId }, "resending feedback whose send was never confirmed, under the same message id");
    } else {
      const pick = pickSender(opts.sessions());
      if (!pick) return fail("no open WhatsApp session to send from");
      session = pick.session;
      fallback = pick.fallback;
      waMessageId = feedbackMessageId(message);
      recordIntent.run({
        id: message.id,
        chatJid: message.chatJid,
        dropNumber: message.dropNumber,
        session: session.config.name,
        fallback: fallback ? 1 : 0,
        waMessageId,
        at: Date.now(),
      });
    }
    try {
      const sent = await session.send(message.chatJid, message.text, message.mentions, { messageId: waMessageId });
      if (sent.waMessageId !== waMessageId) log.warn({ id: message.id, waMessageId, got: sent.waMessageId }, "WhatsApp sent under another id");
    } catch (err) {
      // The intent stays: whether it reached WhatsApp or not, the next hand-out repeats it under the same id.
      return fail(`send via ${session.config.name}: ${(err as Error).message}`);
    }
    markSent.run(Date.now(), message.id);
    if (fallback) log.warn({ id: message.id, via: session.config.name }, "sender session down: feedback sent by a fallback session");
    else log.info({ id: message.id, drop: message.dropNumber }, "feedback sent");
    await ackSent(findRecord.get(message.id)!);
  }

  async function cycle(): Promise<void> {
    // Acks that did not reach the edge last time go first.
    for (const row of unacked.all()) await ackSent(row);
    if (opts.ready && !opts.ready()) return;
    // Claiming what we cannot send would only make it wait out a lease.
    if (!pickSender(opts.sessions())) return;
    const claimedAt = now();
    const messages = await edge.claimFeedback(opts.batchSize);
    for (const m of messages) await handle(m, claimedAt);
  }

  const done = (async () => {
    while (!stopped) {
      try {
        await cycle();
        failures = 0;
        await sleeper.sleep(opts.pollMs);
      } catch (err) {
        const delay = Math.max(opts.pollMs, backoffDelay(failures++, opts.backoff.initialMs, opts.backoff.maxMs));
        log.warn({ err: (err as Error).message, retryInMs: delay }, "feedback poll failed");
        await sleeper.sleep(delay);
      }
    }
  })();

  return {
    /** Poll now rather than at the next interval. */
    wake: () => sleeper.wake(),
    async stop() {
      stopped = true;
      sleeper.wake();
      await done;
    },
  };
}
