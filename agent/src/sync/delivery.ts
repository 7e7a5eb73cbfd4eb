// Drains the outbox to POST /v1/agent/drops: batches of at most `batchSize` rows and under the edge's 1 MiB
// body limit, rows marked delivered only on a 2xx with a result for each, exponential backoff while the edge
// is down or answers 5xx. Stopping lets the in-flight batch finish.
import { DropSubmission, type IngestStatus } from "@wa-monitor/shared";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { OutboxRow, OutboxStore } from "../store/outbox.ts";
import { backoffDelay } from "./backoff.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";
import { startLoop, type PassOutcome } from "./loop.ts";

const MAX_BODY_BYTES = 900 * 1024; // under the edge's 1 MiB with room for the envelope

export interface DeliveryOptions {
  outbox: OutboxStore;
  edge: EdgeClient;
  log: Logger;
  metrics: Metrics;
  batchSize: number;
  pollMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** Delivery waits until this is true (the edge has our projects), so no drop meets an unknown group. */
  ready?: () => boolean;
  /** The edge did not know a group we monitor: it has fallen out of step with our projects. */
  onUnknownGroup?: () => void;
}

function toSubmission(r: OutboxRow): DropSubmission {
  const { id: _id, attempts: _a, ...s } = r;
  return s;
}

/** Splits rows so each request body stays under the byte limit. */
export function chunkBySize(rows: OutboxRow[], maxBytes = MAX_BODY_BYTES): OutboxRow[][] {
  const chunks: OutboxRow[][] = [];
  let current: OutboxRow[] = [];
  let size = 0;
  for (const r of rows) {
    const n = Buffer.byteLength(JSON.stringify(toSubmission(r))) + 1;
    if (current.length && size + n > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(r);
    size += n;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

export function startDelivery(opts: DeliveryOptions) {
  const { outbox, edge, log, metrics } = opts;
  let lastError: string | null = null;

  function settle(chunk: OutboxRow[], results: { status: IngestStatus }[]): void {
    const unknown = chunk.filter((_, i) => results[i]!.status === "unknown_group");
    outbox.markDelivered(
      chunk.flatMap((r, i) => (results[i]!.status === "unknown_group" ? [] : [{ id: r.id, status: results[i]!.status }])),
    );
    for (const r of results) if (r.status !== "unknown_group") metrics.delivered.inc({ result: r.status });
    if (unknown.length) {
      // Only monitored groups reach the outbox, so the edge is missing a project: keep the rows, push the
      // projects again, and retry these rows later without holding up the rest.
      const now = Date.now();
      outbox.defer(
        unknown.map((r) => ({ id: r.id, retryAt: now + backoffDelay(r.attempts, opts.backoff.initialMs, opts.backoff.maxMs) })),
        "edge does not know this group yet",
      );
      log.warn({ rows: unknown.length }, "edge answered unknown_group; re-pushing projects and retrying later");
      opts.onUnknownGroup?.();
    }
  }

  interface Pass {
    /** Some row of this pass was taken by the edge. */
    accepted: boolean;
    /** Rows the edge refused on their own (a 400/413 for a batch of one). */
    refused: { row: OutboxRow; error: string }[];
  }

  /**
   * Posts one chunk. When the edge refuses the request itself (400/413) the chunk is halved until the refused
   * rows stand alone, so one bad row cannot hold up every row behind it. Whether those rows are bad, or the
   * edge refuses everything (a contract it changed before we were updated), is decided after the whole pass.
   */
  async function sendChunk(chunk: OutboxRow[], pass: Pass): Promise<"ok" | "retry"> {
    try {
      const { results } = await edge.postDrops(chunk.map(toSubmission));
      settle(chunk, results);
      pass.accepted = true;
      return "ok";
    } catch (err) {
      const message = (err as Error).message;
      const refused = err instanceof EdgeError && (err.status === 400 || err.status === 413);
      if (refused && chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        const first = await sendChunk(chunk.slice(0, half), pass);
        return first === "ok" ? sendChunk(chunk.slice(half), pass) : first;
      }
      if (refused) {
        pass.refused.push({ row: chunk[0]!, error: message });
        return "ok";
      }
      outbox.markAttempt(chunk.map((r) => r.id), message);
      metrics.deliveryFailures.inc();
      lastError = message;
      return "retry";
    }
  }

  /** Refused rows are set aside only when the edge took others in the same pass; otherwise we wait and retry. */
  function judgeRefused(pass: Pass): boolean {
    if (!pass.refused.length) return true;
    if (pass.accepted) {
      outbox.markRejected(pass.refused.map((r) => ({ id: r.row.id, error: r.error })));
      log.error({ rows: pass.refused.map((r) => ({ id: r.row.id, error: r.error })) }, "the edge refuses these outbox rows; kept locally, marked rejected");
      return true;
    }
    outbox.markAttempt(pass.refused.map((r) => r.row.id), pass.refused[0]!.error);
    metrics.deliveryFailures.inc();
    lastError = `the edge refuses every row (${pass.refused[0]!.error}); is this agent older than the edge?`;
    return false;
  }

  async function deliverOnce(): Promise<PassOutcome> {
    if (opts.ready && !opts.ready()) return "idle";
    const rows = outbox.pending(opts.batchSize);
    if (!rows.length) return "idle";
    // Rows the contract refuses would be refused forever: set them aside (kept, marked rejected).
    const bad = rows.flatMap((r) => {
      const v = DropSubmission.safeParse(toSubmission(r));
      return v.success ? [] : [{ id: r.id, error: v.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") }];
    });
    if (bad.length) {
      outbox.markRejected(bad);
      log.error({ rows: bad }, "outbox rows do not match the contract; marked rejected");
    }
    const good = rows.filter((r) => !bad.some((b) => b.id === r.id));
    const pass: Pass = { accepted: false, refused: [] };
    for (const chunk of chunkBySize(good)) {
      if ((await sendChunk(chunk, pass)) !== "ok") {
        judgeRefused(pass);
        return "failed";
      }
    }
    if (!judgeRefused(pass)) return "failed";
    lastError = null;
    return "more";
  }

  const loop = startLoop({
    pollMs: opts.pollMs,
    backoff: opts.backoff,
    // Every stored drop wakes delivery; while the edge is failing they wait for the retry instead of each
    // sending it a request.
    holdWakesDuringBackoff: true,
    async pass() {
      try {
        return await deliverOnce();
      } catch (err) {
        log.error({ err }, "delivery loop error");
        return "failed";
      } finally {
        const stats = outbox.stats();
        metrics.outboxPending.set(stats.pending);
        metrics.outboxRejected.set(stats.rejected);
      }
    },
    onFailed: ({ retryInMs }) => log.warn({ retryInMs, error: lastError }, "delivery to the edge failed; will retry"),
    onRecovered: () => log.info("delivery to the edge recovered"),
  });

  return {
    /** New rows are waiting: deliver now instead of at the next poll (no effect during backoff's wait). */
    wake: loop.wake,
    status: () => ({ failing: loop.status().failing, lastError }),
    stop: loop.stop,
  };
}

export type Delivery = ReturnType<typeof startDelivery>;
