// Benchmark 4b: photos from the agent's store to the edge, and the agent's memory while they flow. The real entry
// point (agent/src/main.ts) in a child process on the simulator transport; images enter through POST
// /simulate/messages as real encrypted imageMessages and come in through Baileys' decrypting download; the edge is
// the Worker served over HTTP on its own database, its PHOTOS bucket the rig's real local R2 (tools/r2.ts).
//
// A first agent process takes the images in with their downloads held, and is stopped: in the simulator, playing
// WhatsApp's part (base64 bodies, Baileys encrypting each image and making its thumbnail) happens inside the agent,
// which a live agent never does. A fresh agent on the same store then downloads them all while the edge answers
// every photo request 503, then uploads them once photo requests pass. Upload throughput is N / (first photo
// request let through → answer to the last record POST). RSS is the second agent's after both, GC settled, read by
// the probe agent-memory.ts uses.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { stringify } from "yaml";
import { freePort } from "../ports.ts";
import { MB, mallocHeapOf, memoryOf, residentOf, resetPeak, startProbedAgent } from "./agent-memory.ts";
import { figure } from "./figures.ts";
import { heading, int, line, secs, sleep } from "./measure.ts";
import { PROJECTS, serveWorker, type Cleanup, type EdgeIntercept } from "./rig.ts";
import type { Env } from "../../edge-api/src/env.ts";

const SESSIONS = ["primary", "backup", "sender"];
/** Both capture numbers are in every group, as in production: each image message arrives twice, is kept once. */
const CAPTURE = ["primary", "backup"];
/** A drop's QA steps, one photo each, as installers post them (some without a caption). */
const STEP_CAPTIONS = ["house", "pole", "", "entry", "wall", "ONT", "power meter", "", "barcode", "UPS", "final", "signature"];
const PER_DROP = STEP_CAPTIONS.length;
/** Distinct pictures generated with sharp; every photo is one of them with a comment of its own (its own hash). */
const POOL = 24;
// The images' bandwidth cap (media.maxBytesPerMinute) set out of the way, so the figure is the uploader and the
// edge, not the cap: 100 GiB a minute. The default cap's own bound is printed beside the figure.
const UNCAPPED = 100 * 2 ** 30;
const DEFAULT_CAP = 30 * 2 ** 20;
const PHOTO_PATH = /^\/v1\/agent\/photos(\/|$)/;

export interface PhotosBenchOptions {
  photos: number;
  /** Added to each photo request before the Worker sees it: a round trip to a distant edge (0: none). */
  addedMs?: number;
}

/**
 * Photo-like JPEGs of ~135–290 KB at 1600×1200 (WhatsApp's own size for photos): colour noise on a coarse grid,
 * upscaled smooth, so they neither compress to nothing nor weigh what pure noise would.
 */
async function picturePool(): Promise<Buffer[]> {
  const pool: Buffer[] = [];
  for (let i = 0; i < POOL; i++) {
    const w = 40 + Math.round((i * 100) / (POOL - 1)); // 40..140 cells wide: ~135..290 KB
    const h = Math.round((w * 3) / 4);
    const cells = Buffer.alloc(w * h * 3);
    for (let j = 0; j < cells.length; j++) cells[j] = Math.floor(Math.random() * 256);
    pool.push(await sharp(cells, { raw: { width: w, height: h, channels: 3 } }).resize(1600, 1200, { kernel: "cubic" }).jpeg({ quality: 75 }).toBuffer());
  }
  return pool;
}

/** The picture with a JPEG comment (COM segment) after its SOI: another file, another SHA-256, still a JPEG. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const body = Buffer.from(text);
  const segment = Buffer.concat([Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** A drop message, then its photos, as both capture numbers receive them. */
async function postDrop(adminUrl: string, pool: Buffer[], drop: number, photos: number): Promise<number> {
  const chatJid = PROJECTS[drop % PROJECTS.length]!.groupJid;
  const installer = drop % 20;
  const sender = { chatJid, senderJid: `2783${String(1_000_000 + installer).padStart(7, "0")}@s.whatsapp.net`, senderName: `Installer ${installer}` };
  const dropNumber = `DR94${String(drop).padStart(6, "0")}`;
  const entries: object[] = [];
  const text = { ...sender, id: `3EB0PHD${drop.toString(16).toUpperCase().padStart(9, "0")}`, text: `${dropNumber} installed, photos below` };
  for (const session of CAPTURE) entries.push({ session, ...text });
  let bytes = 0;
  for (let k = 0; k < photos; k++) {
    const n = drop * PER_DROP + k;
    const data = withComment(pool[n % POOL]!, `wa-monitor bench photo ${n}`);
    bytes += data.length;
    const image = { data: data.toString("base64"), mimetype: "image/jpeg" };
    const photo = { ...sender, id: `3EB0PHI${n.toString(16).toUpperCase().padStart(9, "0")}`, text: STEP_CAPTIONS[k]!, image };
    for (const session of CAPTURE) entries.push({ session, ...photo });
  }
  const res = await fetch(`${adminUrl}/simulate/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: entries }),
  });
  if (!res.ok) throw new Error(`POST /simulate/messages answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  return bytes;
}

interface Health {
  outbox: { pending: number };
  media: { pending: number; downloaded: number; tooLarge: number; unsupported: number; failed: number; blobs: number; blobBytes: number };
  uploads: { pending: number; uploaded: number; failing: number; lastError: string | null };
}

async function until(adminUrl: string, what: string, done: (h: Health) => boolean, timeoutMs: number): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = (await (await fetch(`${adminUrl}/health`)).json()) as Health;
    if (done(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify({ media: h.media, uploads: h.uploads })}`);
    await sleep(50);
  }
}

type RequestKind = "HEAD" | "PUT" | "POST";

/**
 * Photo requests answered 503 while closed; once open, each one let through is counted and timed, so the upload
 * window can be split into the edge's time (the Worker, R2, Postgres) and the agent's own.
 */
function photoGate(addedMs: number) {
  let open = false;
  let inFlight = 0;
  const passed = {
    maxInFlight: 0,
    count: { HEAD: 0, PUT: 0, POST: 0 } as Record<RequestKind, number>,
    edgeMs: { HEAD: 0, PUT: 0, POST: 0 } as Record<RequestKind, number>,
    firstAt: NaN,
    lastPostAnsweredAt: NaN,
  };
  const intercept: EdgeIntercept = async (req, next) => {
    if (!PHOTO_PATH.test(new URL(req.url).pathname)) return next();
    if (!open) return new Response("the bench holds photo uploads until every image is downloaded", { status: 503 });
    const at = performance.now();
    if (Number.isNaN(passed.firstAt)) passed.firstAt = at;
    const kind = req.method as RequestKind;
    passed.maxInFlight = Math.max(passed.maxInFlight, ++inFlight);
    if (addedMs) await sleep(addedMs);
    const res = await next().finally(() => inFlight--);
    // The Worker's answer is whole by now (it reads the body to hash it; its JSON is built in memory).
    passed.count[kind]++;
    passed.edgeMs[kind] += performance.now() - at;
    if (kind === "POST") passed.lastPostAnsweredAt = performance.now();
    return res;
  };
  return { intercept, passed, open: () => void (open = true) };
}

export async function benchPhotos(env: Env, dir: string, cleanup: Cleanup, opts: PhotosBenchOptions): Promise<void> {
  heading(`4b. Photos: ${int(opts.photos)} images from the agent's store to the edge (R2 + Postgres); the agent's RSS with photos flowing`);
  const n = opts.photos;
  const addedMs = opts.addedMs ?? 0;
  const gate = photoGate(addedMs);
  if (addedMs) line(`each photo request waits ${addedMs} ms before the Worker sees it (BENCH_PHOTOS_RTT_MS)`);
  const edge = await serveWorker(env, cleanup, gate.intercept);
  const t0 = performance.now();
  const pool = await picturePool();
  line(`${POOL} distinct 1600×1200 JPEGs of ${int(Math.min(...pool.map((b) => b.length)) / 1024)}–${int(Math.max(...pool.map((b) => b.length)) / 1024)} KB generated in ${secs(performance.now() - t0)}; each photo is one of them with a comment of its own`);

  const configFile = path.join(dir, "agent.yaml");
  const memoryFile = path.join(dir, "memory.json");
  await writeFile(
    configFile,
    stringify({
      sessions: SESSIONS.map((name) => ({ name, role: name === "sender" ? "sender" : "capture" })),
      projects: PROJECTS,
      media: { maxBytesPerMinute: UNCAPPED },
      // Only the wait for the gate to open: the uploader retries within a second of it, not a minute later.
      backoff: { maxMs: 1000 },
    }),
  );
  const warnings: string[] = [];
  const mediaPort = String(await freePort());
  // The restarted agent finds the files it has yet to download where the first one left them (SIMULATOR_MEDIA_PORT).
  // LOG_LEVEL error: the 503s the edge answers photo requests with meanwhile are expected.
  const launch = (env: Record<string, string> = {}) =>
    startProbedAgent({ edgeUrl: edge.url, dir, configFile, memoryFile, warnings, env: { LOG_LEVEL: "error", SIMULATOR_MEDIA_PORT: mediaPort, ...env } });
  const failed = (err: unknown) => new Error(`${(err as Error).message}${warnings.length ? `\nagent said:\n${warnings.join("\n")}` : ""}`);

  // 1. The images arrive. Their downloads are held (the simulated media host stalls the first file), so this
  // process only plays WhatsApp's part: JSON bodies of base64, Baileys encrypting each image and making its
  // thumbnail. It is stopped before anything is measured against the figure.
  let bytes = 0;
  let postMs = 0;
  const receiver = await launch({ SIMULATOR_MEDIA_STALL_MS: "600000" });
  let baseline: NodeJS.MemoryUsage;
  let receiverRss: number;
  let receiverPeak: number;
  try {
    baseline = await memoryOf(receiver.pid, memoryFile);
    const posted = performance.now();
    for (let d = 0; d * PER_DROP < n; d++) bytes += await postDrop(receiver.adminUrl, pool, d, Math.min(PER_DROP, n - d * PER_DROP));
    postMs = performance.now() - posted;
    const h = await until(receiver.adminUrl, "the drops delivered", (x) => x.outbox.pending === 0, 60_000);
    if (h.media.pending !== n) throw new Error(`${h.media.pending} of ${n} images wait for their download: ${JSON.stringify(h.media)}`);
    receiverRss = (await memoryOf(receiver.pid, memoryFile)).rss / MB;
    receiverPeak = await residentOf(receiver.pid, "VmHWM");
  } catch (err) {
    throw failed(err);
  } finally {
    await receiver.stop();
  }

  // 2. The same store, a fresh agent: it downloads all N (photo requests to the edge answered 503 meanwhile), then
  // uploads them. Its RSS is the figure.
  const agent = await launch();
  try {
    const started = performance.now();
    const down = await until(agent.adminUrl, `${n} images downloaded`, (h) => h.media.pending === 0, 600_000);
    const downMs = performance.now() - started;
    if (down.media.downloaded !== n) throw new Error(`only ${down.media.downloaded} of ${n} images downloaded: ${JSON.stringify(down.media)}`);
    if (down.media.blobBytes !== bytes) throw new Error(`the store holds ${down.media.blobBytes} bytes of images, ${bytes} were posted`);
    const downloaded = { rss: await residentOf(agent.pid, "VmRSS"), peak: await residentOf(agent.pid, "VmHWM"), malloc: await mallocHeapOf(agent.pid) };

    await resetPeak(agent.pid);
    gate.open();
    const up = await until(agent.adminUrl, `${n} images uploaded`, (h) => h.uploads.uploaded === n && h.uploads.pending === 0, 600_000);
    if (up.uploads.failing) throw new Error(`${up.uploads.failing} uploads failing: ${up.uploads.lastError}`);
    const { passed } = gate;
    const upMs = passed.lastPostAnsweredAt - passed.firstAt;
    const uploaded = { rss: await residentOf(agent.pid, "VmRSS"), peak: await residentOf(agent.pid, "VmHWM") };
    const end = await memoryOf(agent.pid, memoryFile);
    const endMalloc = await mallocHeapOf(agent.pid);
    const peak = Math.max(downloaded.peak, uploaded.peak);

    const perSecond = n / (upMs / 1000);
    const mbPerSecond = bytes / MB / (upMs / 1000);
    const avgBytes = bytes / n;
    const edgeMs = passed.edgeMs.HEAD + passed.edgeMs.PUT + passed.edgeMs.POST;
    const each = (k: RequestKind) => `${int(passed.count[k])} ${k} (${(passed.edgeMs[k] / Math.max(1, passed.count[k])).toFixed(1)} ms each)`;
    line(
      `posted ${int(n)} photos (${(bytes / MB).toFixed(1)} MB, ${int(avgBytes / 1024)} KB average) after ${int(Math.ceil(n / PER_DROP))} drop messages, ` +
        `each to primary and backup, in ${secs(postMs)}; that agent (WhatsApp's part played in it) held ${receiverRss.toFixed(1)} MB after GC, ` +
        `${receiverPeak.toFixed(1)} MB at peak, and was stopped`,
    );
    line(`a fresh agent on the same store downloaded all ${int(n)} (Baileys' decrypting download) in ${secs(downMs)} from its start`);
    line(
      `uploads: ${each("HEAD")} and ${each("PUT")} /v1/agent/photos/blobs/…, ${each("POST")} /v1/agent/photos; ` +
        `${secs(upMs)} from the first photo request to the last record's answer, the edge's answers adding up to ${secs(edgeMs)} (requests overlap), ` +
        `at most ${passed.maxInFlight} in flight at once`,
    );
    if (passed.maxInFlight === 1 && !addedMs) {
      // Requests one after another: each costs a whole round trip more when the edge is far away.
      const requests = passed.count.HEAD + passed.count.PUT + passed.count.POST;
      line(`one request at a time: ${(requests / n).toFixed(2)} round trips per photo, so a 50 ms round trip to the edge alone would hold this to ${(n / (upMs / 1000 + requests * 0.05)).toFixed(1)} photos/s`);
    }
    line(
      `RSS: a fresh agent ${(baseline.rss / MB).toFixed(1)} MB after GC; all downloaded ${downloaded.rss.toFixed(1)} MB (peak ${downloaded.peak.toFixed(1)}); ` +
        `all uploaded ${uploaded.rss.toFixed(1)} MB (peak while uploading ${uploaded.peak.toFixed(1)}); after GC ${(end.rss / MB).toFixed(1)} MB ` +
        `(V8 heap ${(end.heapUsed / MB).toFixed(1)}, external ${(end.external / MB).toFixed(1)})`,
    );
    line(
      `of which glibc malloc's main heap ([heap] in smaps): ${downloaded.malloc.toFixed(1)} MB once downloaded, ${endMalloc.toFixed(1)} MB at the end ` +
        "(C memory: SQLite's page cache, Buffers' bytes; live, or freed and kept by the allocator)",
    );
    // Ours, not the issue's (it names the figure, not a number): a team's burst is 12 photos a drop, many drops a minute.
    figure(
      `photo upload throughput, agent store → edge (R2 + Postgres)${addedMs ? `, +${addedMs} ms a request` : ""}`,
      perSecond,
      "photos/s",
      ">= 10",
      `${int(n)} photos of ${int(avgBytes / 1024)} KB avg, ${mbPerSecond.toFixed(1)} MB/s; bandwidth cap lifted ` +
        `(the default media.maxBytesPerMinute, 30 MiB, allows ${(DEFAULT_CAP / 60 / avgBytes).toFixed(1)} photos/s of this size after its first minute's burst); target ours, not the issue's`,
    );
    figure(
      "agent RSS with photos flowing",
      end.rss / MB,
      "MB",
      "<= 120",
      `after ${int(n)} photos downloaded and uploaded, GC settled; peak ${peak.toFixed(0)} MB (VmHWM); a fresh agent: ${(baseline.rss / MB).toFixed(0)} MB; issue 8's agent target`,
    );
  } catch (err) {
    throw failed(err);
  } finally {
    await agent.stop();
  }
}
