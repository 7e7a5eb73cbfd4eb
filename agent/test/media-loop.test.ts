// The image download loop on its own, on a real store and the simulated media host: it yields to drops and
// goes through the bandwidth budget. And the budget itself, on a clock the test turns.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { monitoredGroups } from "../src/detect/projects.ts";
import { bandwidthBudget, type BandwidthBudget, type Clock } from "../src/media/bandwidth.ts";
import { startMediaDownloads, type MediaDownloader } from "../src/media/downloader.ts";
import { createMetrics } from "../src/metrics.ts";
import { openStore, type Db } from "../src/store/db.ts";
import { mediaStore } from "../src/store/media.ts";
import { createIngest } from "../src/whatsapp/ingest.ts";
import { startSimMediaHost, type SimMediaHost } from "../src/whatsapp/sim-media-host.ts";
import { buildWaMessage } from "../src/whatsapp/simulator.ts";
import { jpeg, sha256 } from "./fixtures/images.ts";
import { eventually, LAWLEY, tempDir, testConfig } from "./helpers.ts";

let db: Db;
let host: SimMediaHost | undefined;
let loop: MediaDownloader | undefined;

afterEach(async () => {
  await loop?.stop();
  await host?.stop();
  db?.close();
  loop = undefined;
  host = undefined;
});

const log = pino({ level: "silent" });
const unlimited: BandwidthBudget = { take: async () => {}, spend: () => {} };

/** A store holding one recorded image message, and the host serving it. */
async function storeWithImage(photo: Buffer) {
  db = openStore(await tempDir());
  host = await startSimMediaHost(db);
  const config = testConfig();
  const ingest = createIngest({
    db,
    log,
    metrics: createMetrics(),
    groups: () => monitoredGroups(config),
    ownUsers: () => new Set<string>(),
    captures: () => true,
    onQueued: () => {},
  });
  const content = await host.content(LAWLEY, "PHOTO", { data: photo, mimetype: "image/jpeg" }, "");
  const message = buildWaMessage({ chatJid: LAWLEY, senderJid: "27821234567@s.whatsapp.net", text: "", id: "PHOTO" }, "27600000001@s.whatsapp.net", {
    media: content,
  });
  expect(await ingest.handle("primary", [message], "notify")).toMatchObject({ stored: 1, media: 1 });
  return mediaStore(db);
}

function start(store: ReturnType<typeof mediaStore>, over: { dropsFirst?: () => boolean; budget?: BandwidthBudget }) {
  loop = startMediaDownloads({
    store,
    log,
    metrics: createMetrics(),
    budget: over.budget ?? unlimited,
    reupload: async () => {
      throw new Error("not expected");
    },
    dropsFirst: over.dropsFirst ?? (() => false),
    maxAttempts: 3,
    retryBackoff: { initialMs: 50, maxMs: 100 },
    offlineBackoff: { initialMs: 50, maxMs: 100 },
    pollMs: 50,
  });
  return loop;
}

const state = () => (db.prepare("SELECT state FROM media").get() as { state: string }).state;
const requests = () => host!.files().reduce((n, f) => n + f.requests, 0);

describe("image download loop", () => {
  it("starts no download while drops wait for delivery", async () => {
    const photo = jpeg("drops-first");
    const store = await storeWithImage(photo);
    let dropsWaiting = true;
    let asked = 0;
    start(store, {
      dropsFirst: () => {
        asked++;
        return dropsWaiting;
      },
    });
    await eventually(async () => asked, (n) => n >= 3);
    expect(requests()).toBe(0);
    expect(state()).toBe("pending_download");
    dropsWaiting = false;
    await eventually(async () => state(), (s) => s === "downloaded");
    expect(requests()).toBe(1);
    expect(db.prepare("SELECT sha256 FROM media").get()).toEqual({ sha256: sha256(photo) });
  });

  it("downloads only when the bandwidth budget lets it, announcing the declared size", async () => {
    const photo = jpeg("budget");
    const store = await storeWithImage(photo);
    const taken: number[] = [];
    const spent: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    start(store, {
      budget: {
        take: async (bytes) => {
          taken.push(bytes);
          await released;
        },
        spend: (bytes) => void spent.push(bytes),
      },
    });
    await eventually(async () => taken, (t) => t.length === 1);
    expect(taken).toEqual([photo.length]);
    expect(requests()).toBe(0);
    release();
    await eventually(async () => state(), (s) => s === "downloaded");
    expect(requests()).toBe(1);
    // The declared size was right: nothing to settle.
    expect(spent).toEqual([0]);
  });
});

describe("bandwidth budget", () => {
  function fakeClock() {
    let now = 0;
    const slept: number[] = [];
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
    return { clock, slept, advance: (ms: number) => (now += ms) };
  }

  it("lets a minute's worth go at once, then as fast as the cap refills", async () => {
    const { clock, slept } = fakeClock();
    const budget = bandwidthBudget(60_000, clock); // 1 byte per ms
    await budget.take(30_000);
    await budget.take(30_000);
    expect(slept).toEqual([]);
    // Empty but not in debt: this one goes too, into debt, which is paid back before the next goes.
    await budget.take(10_000);
    expect(slept).toEqual([]);
    await budget.take(1);
    expect(slept).toEqual([10_000]);
  });

  it("lets a transfer larger than the cap go, and makes the next pay for it", async () => {
    const { clock, slept, advance } = fakeClock();
    const budget = bandwidthBudget(60_000, clock);
    await budget.take(600_000); // ten minutes' worth, in one image
    expect(slept).toEqual([]);
    advance(60_000);
    await budget.take(1);
    expect(slept).toEqual([480_000]);
  });

  it("settles a transfer that was larger or smaller than announced", async () => {
    const { clock, slept } = fakeClock();
    const budget = bandwidthBudget(60_000, clock);
    await budget.take(60_000);
    budget.spend(-20_000); // it was 40,000
    await budget.take(20_000);
    expect(slept).toEqual([]);
    budget.spend(5_000); // it was 25,000
    await budget.take(1);
    expect(slept).toEqual([5_000]);
  });
});
