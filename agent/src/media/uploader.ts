// The upload loop: takes the image records whose download is over, oldest first, and brings them to the edge —
// the bytes first, once per SHA-256 (HEAD: does the edge have them? if not, PUT, within the bandwidth budget the
// downloads share), then the records in batches (POST /v1/agent/photos). A record is marked uploaded only on the
// edge's answer for it, so an outage or a crash at any point leaves it waiting, and the retry is harmless: the edge
// dedupes records by chat and message id and bytes by hash.
//
// It yields to drops as the downloads do: while the outbox has drops the edge can take, no upload starts. The edge
// unreachable (or failing) backs the whole loop off, as delivery does; what the edge says about one record (a group
// it does not know yet, a refusal) puts that record back with its own backoff and the rest go on.
import type { Logger } from "pino";
import type { PhotoMimetype, PhotoRecord } from "@wa-monitor/shared";
import type { Metrics } from "../metrics.ts";
import type { MediaUploads, UploadResult, UploadRow } from "../store/media-uploads.ts";
import { backoffDelay } from "../sync/backoff.ts";
import { EdgeError, type EdgeClient } from "../sync/edge-client.ts";
import { startLoop, type PassOutcome } from "../sync/loop.ts";
import type { BandwidthBudget } from "./bandwidth.ts";
import { photoRecordOf, type PhotoRecordDeps } from "./photo-record.ts";

/** How long the loop waits before looking again while drops are being delivered. */
const DROPS_FIRST_WAIT_MS = 250;
/** The edge's limit per request. */
const MAX_RECORDS_PER_POST = 100;
/** Photos whose bytes go up at once. Each costs the edge's round trip or two (HEAD, PUT), so one at a time would
 * bound uploads by the distance to the edge; a few keep the line busy, and a drop arriving waits for at most these
 * (no new one starts while drops are due). */
const BLOB_CONCURRENCY = 4;
const YIELD = Symbol("drops first");
/** Under the edge's 1 MiB body limit, with room for the envelope (thumbnails make records up to ~100 KB). */
const MAX_POST_BYTES = 900 * 1024;

export interface MediaUploaderOptions {
  store: MediaUploads;
  edge: EdgeClient;
  log: Logger;
  metrics: Metrics;
  budget: BandwidthBudget;
  records: PhotoRecordDeps;
  /** Uploads wait until this is true (the edge has been sent our projects), as delivery does. */
  ready(): boolean;
  /** Whether drops are waiting to be delivered (then no upload starts). */
  dropsFirst(): boolean;
  /** The edge did not know a group we monitor: push the projects again. */
  onUnknownGroup(): void;
  /** Between passes while the edge is unreachable or failing. */
  backoff: { initialMs: number; maxMs: number };
  /** Between attempts at a record the edge could not take. */
  retryBackoff: { initialMs: number; maxMs: number };
  pollMs?: number;
}

interface Item {
  row: UploadRow;
  record: PhotoRecord;
}

/** Splits records so each request stays within the edge's limits. */
export function chunkRecords<T extends { record: PhotoRecord }>(items: T[], maxBytes = MAX_POST_BYTES, maxRecords = MAX_RECORDS_PER_POST): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const it of items) {
    const n = Buffer.byteLength(JSON.stringify(it.record)) + 1;
    if (current.length && (size + n > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(it);
    size += n;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** The edge refused the request itself (not a moment of trouble): about what we sent. */
const refused = (err: unknown): err is EdgeError => err instanceof EdgeError && (err.status === 400 || err.status === 413);

export function startMediaUploads(opts: MediaUploaderOptions) {
  const { store, edge, log, metrics } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const abandon = new AbortController();
  let lastError: string | null = null;

  function deferRows(rows: UploadRow[], error: string): void {
    const now = Date.now();
    store.defer(
      rows.map((r) => ({ id: r.id, retryAt: now + backoffDelay(r.uploadAttempts, opts.retryBackoff.initialMs, opts.retryBackoff.maxMs) })),
      error,
    );
  }

  /** Makes sure the edge has the bytes; a refusal of them is answered, anything else thrown (the pass fails).
   * YIELD: drops came in meanwhile, and the bytes did not go. */
  async function ensureBlob(sha256: string, mimetype: PhotoMimetype, checkFirst: boolean): Promise<string | null | typeof YIELD> {
    if (checkFirst && (await edge.hasPhotoBlob(sha256))) {
      metrics.mediaBlobUploads.inc({ outcome: "present" });
      return null;
    }
    const bytes = store.blob(sha256);
    if (!bytes) return "the bytes are no longer in the store";
    await opts.budget.take(bytes.length, abandon.signal);
    // A drop may have come in while we asked the edge or waited for the budget: its delivery goes before these bytes.
    if (opts.dropsFirst()) {
      opts.budget.spend(-bytes.length);
      return YIELD;
    }
    try {
      const r = await edge.putPhotoBlob(sha256, bytes, mimetype);
      metrics.mediaBlobUploads.inc({ outcome: r.stored ? "stored" : "present" });
      return null;
    } catch (err) {
      if (refused(err)) return err.message;
      throw err;
    }
  }

  /**
   * Makes sure the edge has each of these contents, BLOB_CONCURRENCY at a time; answers the refused ones with why,
   * and whether it stopped early for drops. An error (the edge unreachable or failing) stops it starting more and is
   * thrown once those in flight are over.
   */
  async function ensureBlobs(blobs: Map<string, PhotoMimetype>, checkFirst: boolean): Promise<{ refused: Map<string, string>; yielded: boolean }> {
    const queue = [...blobs];
    const refused = new Map<string, string>();
    let yielded = false;
    let failed = false;
    const worker = async () => {
      for (let next = queue.shift(); next && !failed; next = queue.shift()) {
        if (opts.dropsFirst()) {
          yielded = true;
          return;
        }
        const [sha256, mimetype] = next;
        try {
          const problem = await ensureBlob(sha256, mimetype, checkFirst);
          if (problem === YIELD) {
            yielded = true;
            return;
          }
          if (problem) refused.set(sha256, problem);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(BLOB_CONCURRENCY, queue.length) }, worker));
    const error = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (error) throw error.reason;
    return { refused, yielded };
  }

  function settle(chunk: Item[], results: { status: string }[]): Item[] {
    const done: { id: number; result: UploadResult }[] = [];
    const unknown: UploadRow[] = [];
    const missing: Item[] = [];
    chunk.forEach((it, i) => {
      const status = results[i]!.status;
      metrics.mediaUploads.inc({ result: status });
      if (status === "new" || status === "updated" || status === "duplicate") done.push({ id: it.row.id, result: status });
      else if (status === "unknown_group") unknown.push(it.row);
      else missing.push(it);
    });
    store.markUploaded(done);
    if (unknown.length) {
      // Only monitored groups are recorded, so the edge is missing a project: keep these, push the projects again.
      deferRows(unknown, "the edge does not know this group yet");
      log.warn({ records: unknown.length }, "edge answered unknown_group for images; re-pushing projects and retrying later");
      opts.onUnknownGroup();
    }
    return missing;
  }

  /** Posts records; halves a batch the edge refuses until the refused records stand alone. Answers the records
   * whose bytes the edge turned out not to have. */
  async function post(chunk: Item[]): Promise<Item[]> {
    await opts.budget.take(chunk.reduce((n, it) => n + Buffer.byteLength(JSON.stringify(it.record)), 0), abandon.signal);
    try {
      const { results } = await edge.postPhotos(chunk.map((it) => it.record));
      return settle(chunk, results);
    } catch (err) {
      if (!refused(err)) throw err;
      if (chunk.length === 1) {
        metrics.mediaUploads.inc({ result: "refused" });
        deferRows([chunk[0]!.row], err.message);
        log.error({ chatJid: chunk[0]!.row.chatJid, messageId: chunk[0]!.row.messageId, error: err.message }, "the edge refuses an image record; kept, retried later");
        return [];
      }
      const half = Math.ceil(chunk.length / 2);
      return [...(await post(chunk.slice(0, half))), ...(await post(chunk.slice(half)))];
    }
  }

  async function uploadOnce(): Promise<PassOutcome> {
    if (!opts.ready()) return "idle";
    if (opts.dropsFirst()) return { waitMs: DROPS_FIRST_WAIT_MS };
    const rows = store.due(Date.now(), MAX_RECORDS_PER_POST);
    if (!rows.length) {
      const at = store.nextDueAt();
      return { waitMs: at === null ? pollMs : Math.min(pollMs, at - Date.now()) };
    }
    const items: Item[] = [];
    for (const row of rows) {
      const built = await photoRecordOf(row, opts.records);
      if (built.ok) items.push({ row, record: built.record });
      else {
        deferRows([row], built.error);
        log.error({ chatJid: row.chatJid, messageId: row.messageId, error: built.error }, "an image record does not fit the contract; kept, retried later");
      }
    }

    // The bytes, once per hash however many records share them.
    const types = new Map(items.flatMap((it) => (it.record.state === "stored" ? [[it.record.sha256!, it.record.mimetype!] as const] : [])));
    const { refused: badBytes, yielded } = await ensureBlobs(types, true);
    if (yielded) return { waitMs: DROPS_FIRST_WAIT_MS };
    for (const [sha256, problem] of badBytes) {
      const rowsOf = items.filter((it) => it.record.sha256 === sha256).map((it) => it.row);
      deferRows(rowsOf, `the edge refuses the bytes: ${problem}`);
      log.error({ sha256, error: problem, records: rowsOf.length }, "the edge refuses an image's bytes; kept, retried later");
    }

    const ready = items.filter((it) => !(it.record.sha256 && badBytes.has(it.record.sha256)));
    for (const chunk of chunkRecords(ready)) {
      if (opts.dropsFirst()) return { waitMs: DROPS_FIRST_WAIT_MS };
      const missing = await post(chunk);
      if (!missing.length) continue;
      // The edge lost the bytes, or HEAD said it had them before they went: upload them again, then the records.
      log.warn({ records: missing.length }, "edge answered missing_bytes; uploading the bytes again");
      const again = new Map(missing.map((it) => [it.record.sha256!, it.record.mimetype!] as const));
      const { refused } = await ensureBlobs(again, false);
      for (const [sha256, problem] of refused) badBytes.set(sha256, problem);
      const stillMissing = await post(missing.filter((it) => !badBytes.has(it.record.sha256!)));
      const unresolved = [...stillMissing, ...missing.filter((it) => badBytes.has(it.record.sha256!))];
      if (unresolved.length) deferRows(unresolved.map((it) => it.row), "the edge still lacks the bytes after they were uploaded again");
    }
    lastError = null;
    return "more";
  }

  const loop = startLoop({
    pollMs,
    backoff: opts.backoff,
    // Each new record wakes the loop; while the edge is failing they wait for the retry.
    holdWakesDuringBackoff: true,
    async pass() {
      try {
        return await uploadOnce();
      } catch (err) {
        if (abandon.signal.aborted) return "idle"; // stopping: what was in flight stays waiting for the next start
        lastError = (err as Error)?.message ?? String(err);
        if (!(err instanceof EdgeError)) log.error({ err }, "image upload loop error");
        return "failed";
      }
    },
    onFailed: ({ retryInMs }) => log.warn({ retryInMs, error: lastError }, "image upload to the edge failed; will retry"),
    onRecovered: () => log.info("image uploads to the edge recovered"),
  });

  return {
    /** Records finished downloading (or were recorded in a final state): upload now. */
    wake: loop.wake,
    status: () => ({ failing: loop.status().failing, lastError }),
    /** Abandons a wait for the bandwidth budget and ends the loop once the request in flight is over. */
    async stop(): Promise<void> {
      abandon.abort();
      await loop.stop();
    },
  };
}

export type MediaUploader = ReturnType<typeof startMediaUploads>;
