// `npm run bench`: performance numbers of the real parts — the Worker's ingest, the dashboard's reads over a
// large database, the agent → edge path, the agent's own costs and the feedback claim — printed, never
// asserted. Everything runs in a temp dir and is torn down at the end, on error or on Ctrl-C too.
//
// BENCH_DROPS (default 1000000) sets how many drops the read benchmark seeds, BENCH_PHOTOS (default 500) how many
// photos go from the agent to the edge; BENCH_PHOTOS_RTT_MS (default 0) delays each photo request by that much, a
// distant edge's round trip. `--json FILE` also writes every figure with its target (tools/bench/figures.ts).
// `--only feedback` runs section 5 alone (seconds, not minutes), `--only photos` section 4b.
// Logins are as on Neon (tools/pg-auth.ts); PG_AUTH=scram-sha-256 runs everything with the SCRAM logins the local
// stack used to have.
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { benchAgent } from "../tools/bench/agent.ts";
import { benchDemoStack } from "../tools/bench/demo.ts";
import { benchFeed } from "../tools/bench/feed.ts";
import { benchFeedback, OPEN_LIMITS } from "../tools/bench/feedback.ts";
import { benchFloor } from "../tools/bench/floor.ts";
import { benchIngest } from "../tools/bench/ingest.ts";
import { benchPhotos } from "../tools/bench/photos.ts";
import { benchDailyStats, benchIngestAtScale } from "../tools/bench/stats.ts";
import { printFigures, writeFiguresJson } from "../tools/bench/figures.ts";
import { line, secs } from "../tools/bench/measure.ts";
import { Cleanup, edgeEnv, pgSettingsLine, serveWorker, sqlClient, startRig, workerClient, type Rig } from "../tools/bench/rig.ts";

function jsonFile(): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf("--json");
  if (i === -1) return undefined;
  const file = args[i + 1];
  if (!file || file.startsWith("--")) throw new Error("--json needs a file name: npm run bench -- --json FILE");
  return path.resolve(file);
}

const SECTIONS = ["feedback", "photos"] as const;
type Section = (typeof SECTIONS)[number];

/** `--only feedback|photos`: one self-contained section, to iterate on it without seeding the big database. */
function onlySetting(): Section | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf("--only");
  if (i === -1) return undefined;
  const section = SECTIONS.find((s) => s === args[i + 1]);
  if (!section) throw new Error(`--only takes one section: npm run bench -- --only ${SECTIONS.join("|")}`);
  return section;
}

function dropsSetting(): number {
  const raw = process.env.BENCH_DROPS ?? "1000000";
  const n = Number(raw);
  // The deep-page case needs a few thousand rows; drop numbers are DR + 8 digits.
  if (!Number.isInteger(n) || n < 5_000 || n > 50_000_000) throw new Error(`BENCH_DROPS=${raw}: use a whole number from 5000 to 50000000`);
  return n;
}

function photosSetting(): { photos: number; addedMs: number } {
  const raw = process.env.BENCH_PHOTOS ?? "500";
  const photos = Number(raw);
  if (!Number.isInteger(photos) || photos < 12 || photos > 100_000) throw new Error(`BENCH_PHOTOS=${raw}: use a whole number from 12 to 100000`);
  const rawMs = process.env.BENCH_PHOTOS_RTT_MS ?? "0";
  const addedMs = Number(rawMs);
  if (!Number.isInteger(addedMs) || addedMs < 0 || addedMs > 5_000) throw new Error(`BENCH_PHOTOS_RTT_MS=${rawMs}: use a whole number of milliseconds from 0 to 5000`);
  return { photos, addedMs };
}

async function main(cleanup: Cleanup, only: Section | undefined): Promise<void> {
  const drops = dropsSetting();
  const photos = photosSetting();
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  line(`wa-monitor bench — Node ${process.version}, ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`);
  line(pgSettingsLine());
  const t0 = performance.now();
  const rig = await startRig(cleanup);
  line(`cluster, proxy ready in ${secs(performance.now() - t0)} (${rig.dir})`);
  if (only === "feedback") return benchFeedbackSection(rig, cleanup);
  if (only === "photos") return benchPhotosSection(rig, cleanup, photos);

  const ingestUrl = await rig.database("bench_ingest");
  const ingestCall = workerClient(edgeEnv(rig, ingestUrl));
  await benchFloor(rig, ingestUrl, 20);
  await benchIngest(ingestCall, { batches: 20, repeats: 10 });

  // The feed and the agent share one database, so the agent's drops land in a feed of production size.
  const feedUrl = await rig.database("bench_feed");
  const sql = await sqlClient(feedUrl);
  cleanup.add("sql client", () => sql.end());
  const env = edgeEnv(rig, feedUrl);
  await benchFeed(rig, sql, "bench_feed", workerClient(env), { drops, runs: 20, pages: 20 });
  await benchDailyStats(rig, sql, "bench_feed", workerClient(env), { drops, runs: 40 });
  await benchIngestAtScale(rig, sql, "bench_feed", workerClient(env), { drops, batches: 10 });

  const edge = await serveWorker(env, cleanup);
  await benchAgent(edge, sql, path.join(rig.dir, "agent"), cleanup, { latencyRuns: 30, messages: 5_000, pollMs: 10, maxFeedPolls: 4 });
  await benchPhotosSection(rig, cleanup, photos);

  await benchFeedbackSection(rig, cleanup);

  // Last: the same requests through the stack `npm run demo` runs (workerd under wrangler dev), on the big database.
  await benchDemoStack(feedUrl, sql, cleanup, {
    reads: { drops, runs: 20, pages: 20 },
    healthRuns: 40,
    ingest: { batches: 20, repeats: 5 },
    agent: { latencyRuns: 30, messages: 0, pollMs: 10, maxFeedPolls: 4 },
  });
}

async function benchFeedbackSection(rig: Rig, cleanup: Cleanup): Promise<void> {
  const feedbackUrl = await rig.database("bench_feedback");
  const feedbackSql = await sqlClient(feedbackUrl);
  cleanup.add("feedback sql client", () => feedbackSql.end());
  const feedbackEnv = { ...edgeEnv(rig, feedbackUrl), ...OPEN_LIMITS };
  await benchFeedback(rig, feedbackSql, "bench_feedback", workerClient(feedbackEnv), feedbackEnv, [
    { pollers: 4, limit: 500 },
    { pollers: 4, limit: 50 },
  ]);
}

/** Photos on a database of their own: the figure is the uploader and the edge's photo routes, whatever BENCH_DROPS. */
async function benchPhotosSection(rig: Rig, cleanup: Cleanup, photos: { photos: number; addedMs: number }): Promise<void> {
  const photosUrl = await rig.database("bench_photos");
  const dir = path.join(rig.dir, "photos");
  await mkdir(dir, { recursive: true });
  await benchPhotos(edgeEnv(rig, photosUrl), dir, cleanup, photos);
}

const cleanup = new Cleanup();
const started = performance.now();
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    interrupted = true;
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup.run().finally(() => process.exit(130));
  });
}
let code = 0;
try {
  const json = jsonFile();
  await main(cleanup, onlySetting());
  printFigures();
  if (json) {
    await writeFiguresJson(json);
    line(`figures written to ${json}`);
  }
} catch (err) {
  // Once interrupted, the parts being torn down fail whatever was running; that is not news.
  if (!interrupted) process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  code = 1;
} finally {
  await cleanup.run();
}
line();
line(`total ${secs(performance.now() - started)}${code ? " (failed)" : ""}`);
// Pools and sockets of the parts under test may keep the loop alive after they are stopped.
process.exit(code);
