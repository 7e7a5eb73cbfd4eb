// Sends the feedback the edge hands out: poll GET /v1/agent/outbox, post each message through the sender
// session (or, when it is down, another open session — and say so in the ack), then ack. What was sent is
// recorded locally first, so a lost ack is retried and a message handed out again is acked, not sent twice.
import type { OutboxMessage } from "@wa-monitor/shared";
import type { Logger } from "pino";
import type { Db } from "../store/db.ts";
import type { WaSession } from "../whatsapp/session.ts";
import { backoffDelay, wakeableSleep } from "./backoff.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";

const LEASE_MARGIN_MS = 10_000;

export interface FeedbackSenderOptions {
  db: Db;
  edge: EdgeClient;
  sessions: () => WaSession[];
  log: Logger;
  pollMs: number;
  batchSize: number;
  backoff: { initialMs: number; maxMs: number };
  /** Not before the edge knows our projects and the agent is up. */
  ready?: () => boolean;
  /** Which edge the ids belong to. */
  edgeUrl: string;
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
  const sleeper = wakeableSleep();
  let stopped = false;
  let failures = 0;

  const here = opts.edgeUrl;
  const findSent = db.prepare<[string, string], { session: string; fallback: number; wa_message_id: string }>(
    "SELECT session, fallback, wa_message_id FROM feedback_sent WHERE edge = ? AND id = ?",
  );
  const recordSent = db.prepare(
    "INSERT INTO feedback_sent (edge, id, chat_jid, session, fallback, wa_message_id, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const markAcked = db.prepare("UPDATE feedback_sent SET acked_at = ?, ack_error = ? WHERE edge = ? AND id = ?");
  const unacked = db.prepare<[string], { id: string; session: string; fallback: number; wa_message_id: string }>(
    "SELECT id, session, fallback, wa_message_id FROM feedback_sent WHERE edge = ? AND acked_at IS NULL ORDER BY sent_at LIMIT 100",
  );

  async function ackSent(id: string, session: string, fallback: boolean, waMessageId: string) {
    try {
      await edge.ackFeedback(id, { status: "sent", waMessageId, session, fallback });
      markAcked.run(Date.now(), null, here, id);
    } catch (err) {
      if (err instanceof EdgeError && !err.retryable && err.status !== 401) {
        // The edge will never take this ack (e.g. it no longer knows the id): keep the record, stop retrying.
        markAcked.run(Date.now(), (err as Error).message, here, id);
        log.error({ id, err: (err as Error).message }, "the edge refused a feedback ack; giving up on it");
        return;
      }
      throw err;
    }
  }

  async function handle(message: OutboxMessage): Promise<void> {
    const before = findSent.get(here, message.id);
    if (before) {
      // Sent already; only the ack was lost.
      return ackSent(message.id, before.session, before.fallback === 1, before.wa_message_id);
    }
    const fail = (error: string) => edge.ackFeedback(message.id, { status: "failed", error, attempt: message.attempt });
    // Too close to the end of our claim: the edge may already be handing it to someone else.
    if (Date.parse(message.claimedUntil) - Date.now() < LEASE_MARGIN_MS) {
      await fail("claim about to expire before sending");
      return;
    }
    const pick = pickSender(opts.sessions());
    if (!pick) {
      await fail("no open WhatsApp session to send from");
      return;
    }
    let waMessageId: string;
    try {
      ({ waMessageId } = await pick.session.send(message.chatJid, message.text, message.mentions));
    } catch (err) {
      log.warn({ err: (err as Error).message, id: message.id }, "sending feedback failed");
      await fail(`send via ${pick.session.config.name}: ${(err as Error).message}`);
      return;
    }
    recordSent.run(here, message.id, message.chatJid, pick.session.config.name, pick.fallback ? 1 : 0, waMessageId, Date.now());
    if (pick.fallback) log.warn({ id: message.id, via: pick.session.config.name }, "sender session down: feedback sent by a fallback session");
    else log.info({ id: message.id, drop: message.dropNumber }, "feedback sent");
    await ackSent(message.id, pick.session.config.name, pick.fallback, waMessageId);
  }

  async function cycle(): Promise<void> {
    // Acks that did not reach the edge last time go first.
    for (const row of unacked.all(here)) await ackSent(row.id, row.session, row.fallback === 1, row.wa_message_id);
    if (opts.ready && !opts.ready()) return;
    // Claiming what we cannot send would only make it wait out a lease.
    if (!pickSender(opts.sessions())) return;
    const messages = await edge.claimFeedback(opts.batchSize);
    for (const m of messages) await handle(m);
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
