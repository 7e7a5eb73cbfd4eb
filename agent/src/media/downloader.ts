// The download loop: takes the image records waiting in the store one at a time, oldest due first, and brings
// their bytes in through Baileys (download.ts). It yields to drops: while the outbox has drops it can deliver, no
// download starts. Bytes go through the bandwidth budget. A failure about the image is counted against the record
// and retried with its own backoff until media.maxAttempts; not reaching WhatsApp at all is not the image's
// fault: the record waits, uncounted, and the loop backs off as delivery does. Records live in the store, so a
// restart (a SIGKILL mid-download included) resumes them.
import type { WAMessage } from "baileys";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { MediaRow, MediaStore } from "../store/media.ts";
import { backoffDelay } from "../sync/backoff.ts";
import { startLoop } from "../sync/loop.ts";
import type { BandwidthBudget } from "./bandwidth.ts";
import { downloadImage, MediaDownloadError } from "./download.ts";
import { MEDIA_MAX_BYTES, sniffMimetype } from "./policy.ts";

/** How long the loop waits before looking again while drops are being delivered. */
const DROPS_FIRST_WAIT_MS = 250;

export interface MediaDownloaderOptions {
  store: MediaStore;
  log: Logger;
  metrics: Metrics;
  budget: BandwidthBudget;
  /** Asks the sender's phone for a re-upload through the first of these sessions that is open. */
  reupload(sessions: string[], message: WAMessage): Promise<WAMessage>;
  /** Whether drops are waiting to be delivered (then no download starts). */
  dropsFirst(): boolean;
  maxAttempts: number;
  /** Between attempts at one image. */
  retryBackoff: { initialMs: number; maxMs: number };
  /** Between tries while WhatsApp cannot be reached. */
  offlineBackoff: { initialMs: number; maxMs: number };
  pollMs?: number;
  maxBytes?: number;
  /** A record's download is over (bytes kept, or a final state): it can go to the edge. */
  onSettled?: () => void;
}

type Outcome = "downloaded" | "too_large" | "unsupported" | "retry" | "failed" | "offline" | "abandoned";

export function startMediaDownloads(opts: MediaDownloaderOptions) {
  const { store, log, metrics } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const maxBytes = opts.maxBytes ?? MEDIA_MAX_BYTES;
  const abandon = new AbortController();
  let lastError: string | null = null;

  const sessionsFor = (row: MediaRow) => [...new Set([row.session, ...store.sessionsOf(row.chatJid, row.messageId)])];

  async function attempt(row: MediaRow): Promise<Outcome> {
    const where = { chatJid: row.chatJid, messageId: row.messageId, id: row.id };
    let got: { bytes: Buffer; sha256: string };
    try {
      await opts.budget.take(row.fileLength ?? 0, abandon.signal);
      got = await downloadImage(row, {
        log,
        maxBytes,
        signal: abandon.signal,
        reupload: (message) => opts.reupload(sessionsFor(row), message),
        relocated: (url, directPath) => store.relocate(row.id, url, directPath),
      });
    } catch (err) {
      if (abandon.signal.aborted) return "abandoned"; // still pending: the next start takes it up again
      const e = err instanceof MediaDownloadError ? err : new MediaDownloadError("retry", (err as Error)?.message ?? String(err));
      lastError = e.message;
      if (e.kind === "too_large") {
        store.markFinal(row.id, "too_large", e.message);
        return "too_large";
      }
      if (e.kind === "offline") {
        store.defer(row.id, e.message, Date.now() + backoffDelay(loop.status().failuresInARow, opts.offlineBackoff.initialMs, opts.offlineBackoff.maxMs));
        log.warn({ ...where, error: e.message }, "could not reach WhatsApp for an image; will retry");
        return "offline";
      }
      return charge(row, e.message);
    }
    opts.budget.spend(got.bytes.length - (row.fileLength ?? 0));
    if (row.fileSha256 && !row.fileSha256.equals(Buffer.from(got.sha256, "hex"))) {
      return charge(row, "the bytes do not match WhatsApp's fileSha256");
    }
    // The type served later is the one the bytes are, whatever the message said.
    const type = sniffMimetype(got.bytes);
    if (!type) {
      store.markFinal(row.id, "unsupported", `the bytes are not JPEG, PNG or WebP (declared ${row.mimetype})`);
      return "unsupported";
    }
    store.markDownloaded(row.id, got.sha256, got.bytes, type);
    lastError = null;
    log.debug({ ...where, bytes: got.bytes.length, sha256: got.sha256 }, "image downloaded");
    return "downloaded";
  }

  function charge(row: MediaRow, error: string): Outcome {
    const retryAt = Date.now() + backoffDelay(row.attempts, opts.retryBackoff.initialMs, opts.retryBackoff.maxMs);
    const state = store.charge(row.id, error, retryAt, opts.maxAttempts);
    const where = { chatJid: row.chatJid, messageId: row.messageId, id: row.id, attempts: row.attempts + 1 };
    if (state === "failed") {
      log.error({ ...where, error }, "gave up downloading an image");
      return "failed";
    }
    log.warn({ ...where, error, retryInMs: retryAt - Date.now() }, "image download failed; will retry");
    return "retry";
  }

  const loop = startLoop({
    pollMs,
    pass: async () => {
      if (opts.dropsFirst()) return { waitMs: DROPS_FIRST_WAIT_MS };
      const row = store.nextDue();
      if (!row) {
        const at = store.nextDueAt();
        return { waitMs: at === null ? pollMs : Math.min(pollMs, at - Date.now()) };
      }
      const outcome = await attempt(row);
      if (outcome !== "abandoned") metrics.mediaDownloads.inc({ outcome });
      if (outcome === "downloaded" || outcome === "too_large" || outcome === "unsupported" || outcome === "failed") opts.onSettled?.();
      // Not reaching WhatsApp at all backs the loop off, as delivery does; anything else, the next image.
      return outcome === "offline" ? "failed" : outcome === "abandoned" ? "idle" : "more";
    },
    backoff: opts.offlineBackoff,
    // New images would otherwise wake a loop that is waiting for WhatsApp to come back.
    holdWakesDuringBackoff: true,
    onFailed: ({ err }) => {
      if (err) log.error({ err }, "media download loop error");
    },
    onRecovered: () => log.info("WhatsApp's media servers reachable again"),
  });

  return {
    /** New images are recorded: look now (no effect while WhatsApp is unreachable and the loop backs off). */
    wake: loop.wake,
    status: () => ({ offline: loop.status().failing, lastError }),
    /** Abandons a download in progress (its record stays pending) and ends the loop. */
    async stop(): Promise<void> {
      abandon.abort();
      await loop.stop();
    },
  };
}

export type MediaDownloader = ReturnType<typeof startMediaDownloads>;
