// Benchmark 1: POST /v1/agent/drops through the Worker's fetch handler, batches of 500 as the agent sends them.
import { AGENT_TOKEN, PROJECTS, type WorkerCall } from "./rig.ts";
import { figure } from "./figures.ts";
import { heading, int, LATENCY_HEADERS, latencyRow, line, ms, sample, summarize, table, timed } from "./measure.ts";

const BATCH = 500;

export interface IngestOptions {
  batches: number;
  /** Repeats of the duplicate and resubmission batches. */
  repeats: number;
  /** Where the Worker runs, for the heading and the figure's name. */
  where?: string;
  /** Drop numbers start at DR10000000 + this, so runs into one database do not meet each other's drops. */
  offset?: number;
}

type Submission = ReturnType<typeof submission>;

// At least 5 s in the past: WhatsApp times are whole seconds, so a drop the agent delivers right after a run must
// still sort newest in the feed.
function submission(n: number, salt: string) {
  const project = PROJECTS[n % PROJECTS.length]!;
  const dropNumber = `DR${String(10_000_000 + n).padStart(8, "0")}`;
  return {
    messageId: `3EB0${salt}${String(n).padStart(12, "0")}`,
    chatJid: project.groupJid,
    dropNumber,
    session: "primary",
    senderJid: "27821234567@s.whatsapp.net",
    senderPhone: "+27821234567",
    senderName: "Thabo",
    text: `${dropNumber} done, all photos posted`,
    sentAt: new Date(Date.now() - 65_000 + (n % 60_000)).toISOString(),
  };
}

/** Batch `i` of distinct drops, numbered from `first`; `salt` makes message ids distinct between passes. */
function firstBatch(first: number, salt: string): Submission[] {
  return Array.from({ length: BATCH }, (_, k) => submission(first + k, salt));
}

async function post(call: WorkerCall, items: Submission[], expect: string): Promise<void> {
  const { body } = await call<{ results: { status: string }[] }>("POST", "/v1/agent/drops", {
    token: AGENT_TOKEN,
    json: { submissions: items },
  });
  const wrong = body.results.filter((r) => r.status !== expect);
  // A benchmark of the wrong code path is worse than none.
  if (wrong.length) throw new Error(`expected ${expect} for every item, got ${wrong[0]!.status} (${wrong.length} items)`);
}

export async function benchIngest(call: WorkerCall, opts: IngestOptions, section = "1."): Promise<void> {
  const where = opts.where ?? "Worker in-process";
  const at = opts.offset ?? 0;
  const batch = (first: number, salt: string) => firstBatch(at + first, salt);
  heading(`${section} Edge ingest: POST /v1/agent/drops, batches of ${BATCH}, ${where}`);
  await call("PUT", "/v1/agent/projects", { token: AGENT_TOKEN, json: { projects: PROJECTS } });

  // The first request pays for module warm-up and the first connection; shown apart from the steady state.
  const cold = await timed(() => post(call, batch(0, "A"), "new"));

  const latencies: number[] = [];
  const wall = await timed(async () => {
    for (let b = 1; b <= opts.batches; b++) {
      latencies.push((await timed(() => post(call, batch(b * BATCH, "A"), "new"))).ms);
    }
  });
  const drops = opts.batches * BATCH;

  // Same (chatJid, messageId, dropNumber) again: what a retry or the backup number delivers.
  const duplicates = await sample(opts.repeats, () => post(call, batch(BATCH, "A"), "duplicate"), 0);
  // New messages naming existing drops: the resubmission path (drop update + comment + mark).
  let resub = 0;
  const resubmissions = await sample(
    opts.repeats,
    () => post(call, batch((1 + (resub++ % opts.batches)) * BATCH, `R${resub}`), "resubmission"),
    0,
  );

  table(LATENCY_HEADERS, [
    ["first batch (cold: warm-up + first connection)", "1", ms(cold.ms), "", "", "500 new"],
    latencyRow("batch of 500 new drops", latencies),
    latencyRow("batch of 500 exact duplicates", duplicates),
    latencyRow("batch of 500 resubmissions (existing drops)", resubmissions),
  ]);
  const s = summarize(latencies);
  line();
  line(
    `throughput: ${int(drops)} new drops in ${opts.batches} sequential batches, ${ms(wall.ms)} ms → ` +
      `${int(drops / (wall.ms / 1000))} drops/s (one batch in flight, as the agent sends; median ${int(BATCH / (s.median / 1000))} drops/s per batch)`,
  );
  const perSecond = (samples: number[]) => int(BATCH / (summarize(samples).median / 1000));
  figure(`edge ingest (${where})`, drops / (wall.ms / 1000), "drops/s", ">= 5000",
    `${opts.batches} batches of ${BATCH} new drops, one in flight; duplicates ${perSecond(duplicates)}/s, resubmissions ${perSecond(resubmissions)}/s by median batch`);
}
