// The one handler for incoming WhatsApp messages, live or simulated: Baileys' `messages.upsert` (notify and
// append) and history sync land here. Monitored-group messages are stored; drops in messages from anyone but
// our own sessions are queued for the edge in the same transaction — except history-sync messages older than the
// cutoff, which are only stored. Live and offline catch-up messages are queued whatever their age: after a long
// outage they are drops nobody has seen yet. Images are recorded in the same transaction too, for the download
// loop (media/downloader.ts); a caption is drop text like any other.
import { jidUser, normaliseJid, phoneFromJid, UNKNOWN_SENDER } from "@wa-monitor/shared";
import type { WAMessage } from "baileys";
import type { Logger } from "pino";
import type { MonitoredGroup } from "../detect/projects.ts";
import { extractMessage, isUndecryptedPlaceholder } from "../detect/extract.ts";
import { imageOf } from "../media/detect.ts";
import { initialState } from "../media/policy.ts";
import type { Metrics } from "../metrics.ts";
import type { MediaRecord } from "../store/media.ts";
import { lidStore, messageWriter, type OutboxItem, type StoreBatchEntry, type StoredMessage } from "../store/messages.ts";
import type { Db } from "../store/db.ts";
import { fitSubmissionText } from "../store/submission-text.ts";

export type UpsertKind = "notify" | "append" | "history";

export interface IngestDeps {
  db: Db;
  log: Logger;
  metrics: Metrics;
  groups: () => Map<string, MonitoredGroup>;
  /** User parts (phone numbers and LIDs) of every session of this agent. */
  ownUsers: () => Set<string>;
  /** Whether a session's captures become submissions (role capture or both). */
  captures: (session: string) => boolean;
  /** Asks Baileys for a LID's phone number when our own table does not know it. */
  resolveLid?: (session: string, lid: string) => Promise<string | null>;
  /** History-sync messages sent more than this many days ago are stored but not queued (config historyDays). */
  historyDays?: () => number;
  onQueued: () => void;
  /** Images were recorded: the download loop has work. */
  onMedia?: () => void;
}

export function createIngest(deps: IngestDeps) {
  const write = messageWriter(deps.db);
  const lids = lidStore(deps.db);

  /** The sender's phone when the message or our LID table tells it (no await: that is nearly every message),
   * else the LID to ask Baileys about. */
  function knownPhone(senderJid: string | null, altJid: string | null): { phone: string | null; ask?: string } {
    const direct = phoneFromJid(senderJid) ?? phoneFromJid(altJid);
    if (direct) return { phone: direct };
    const lid = senderJid?.endsWith("@lid") ? senderJid : altJid?.endsWith("@lid") ? altJid : null;
    if (!lid) return { phone: null };
    const known = lids.phoneJidFor(normaliseJid(lid));
    return known ? { phone: phoneFromJid(known) } : { phone: null, ask: lid };
  }

  async function askBaileys(session: string, lid: string): Promise<string | null> {
    try {
      const resolved = await deps.resolveLid?.(session, lid);
      if (resolved) {
        lids.remember([{ lid: normaliseJid(lid), pn: normaliseJid(resolved) }]);
        return phoneFromJid(resolved);
      }
    } catch (err) {
      deps.log.debug({ err, lid }, "LID lookup failed; submitting without phone");
    }
    return null;
  }

  async function handle(session: string, messages: WAMessage[], kind: UpsertKind): Promise<{ stored: number; queued: number; media: number }> {
    const groups = deps.groups();
    const own = deps.ownUsers();
    const captures = deps.captures(session);
    const historyDays = kind === "history" ? deps.historyDays?.() : undefined;
    const historyCutoff = historyDays === undefined ? -Infinity : Date.now() - historyDays * 86_400_000;
    let tooOld = 0;
    const batch: StoreBatchEntry[] = [];
    for (const raw of messages) {
      if (isUndecryptedPlaceholder(raw)) continue;
      const m = extractMessage(raw);
      if (!m) continue;
      const group = groups.get(m.chatJid);
      if (!group) continue; // not a monitored group: not ours to keep
      const senderUser = jidUser(m.senderJid);
      const altUser = jidUser(m.senderAltJid);
      // Our own sessions' messages (feedback names drop numbers!) are stored but never submitted.
      const isOwn = m.fromMe || (senderUser !== null && own.has(senderUser)) || (altUser !== null && own.has(altUser));
      const sender = knownPhone(m.senderJid, m.senderAltJid);
      const phone = sender.ask ? await askBaileys(session, sender.ask) : sender.phone;
      const text = m.text === null ? null : fitSubmissionText(m.text);
      const message: StoredMessage = {
        session,
        chatJid: m.chatJid,
        messageId: m.messageId,
        senderJid: m.senderJid,
        senderPhone: phone,
        senderName: m.senderName,
        fromMe: m.fromMe,
        own: isOwn,
        text,
        editOf: m.editOf,
        sentAtMs: m.sentAtMs,
        upsertType: kind,
        raw,
      };
      const drops: OutboxItem[] = [];
      const old = m.sentAtMs < historyCutoff;
      if (captures && !isOwn && m.text && text && !old) {
        for (const dropNumber of group.detector.detect(m.text)) {
          drops.push({
            chatJid: m.chatJid,
            // An edit's drops belong to the message it edits: a drop it adds counts, one it repeats is a duplicate.
            messageId: m.editOf ?? m.messageId,
            dropNumber,
            session,
            senderJid: m.senderJid ?? m.senderAltJid ?? UNKNOWN_SENDER,
            senderPhone: phone,
            senderName: m.senderName,
            text,
            sentAt: new Date(m.sentAtMs).toISOString(),
          });
        }
      }
      if (old) tooOld++;
      // Sender sessions keep messages for getMessage only; an edit carries no new image.
      const image = captures && !m.editOf ? imageOf(raw.message) : null;
      let media: MediaRecord | undefined;
      if (image) {
        const { state, error } = initialState(image, { oldHistory: old });
        media = {
          chatJid: m.chatJid,
          messageId: m.messageId,
          session,
          senderJid: m.senderJid ?? m.senderAltJid,
          senderPhone: phone,
          senderName: m.senderName,
          fromMe: m.fromMe,
          sentAtMs: m.sentAtMs,
          caption: text,
          image,
          state,
          error,
        };
      }
      batch.push({ message, drops, media });
    }
    if (tooOld) deps.log.info({ session, messages: tooOld }, "history older than the cutoff stored, not submitted");
    if (!batch.length) return { stored: 0, queued: 0, media: 0 };
    const result = write(batch);
    deps.metrics.messagesStored.inc({ session }, result.stored);
    deps.metrics.dropsDetected.inc({ session }, result.queued);
    if (result.queued) {
      deps.log.info({ session, queued: result.queued, kind }, "drops queued for the edge");
      deps.onQueued();
    }
    if (result.media) {
      deps.metrics.mediaRecorded.inc({ session }, result.media);
      deps.onMedia?.();
    }
    return result;
  }

  return {
    handle,
    rememberLids: (pairs: { lid: string; pn: string }[]) =>
      lids.remember(pairs.map((p) => ({ lid: normaliseJid(p.lid), pn: normaliseJid(p.pn) }))),
  };
}

export type Ingest = ReturnType<typeof createIngest>;
