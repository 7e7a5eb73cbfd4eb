// The composition root: store, sessions, ingest, delivery, project sync, image downloads and the admin server,
// started in that order and stopped in reverse (sessions first, so nothing new arrives while the outbox drains).
import { unwatchFile, watchFile, type Stats } from "node:fs";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { SessionReport } from "@wa-monitor/shared";
import type { Logger } from "pino";
import { ConfigFileError, loadConfigFile, type AgentConfig } from "./config.ts";
import { monitoredGroups } from "./detect/projects.ts";
import type { AgentEnv } from "./env.ts";
import { createAdminApp } from "./http/admin.ts";
import { createLogger } from "./log.ts";
import { bandwidthBudget } from "./media/bandwidth.ts";
import { MediaDownloadError } from "./media/download.ts";
import { startMediaDownloads } from "./media/downloader.ts";
import { quotedTextReader } from "./media/quoted.ts";
import { startMediaUploads } from "./media/uploader.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { closeStore, openStore, type Db } from "./store/db.ts";
import { acquireDataDirLock } from "./store/lock.ts";
import { mediaStore, type MediaStats } from "./store/media.ts";
import { mediaUploads, type UploadStats } from "./store/media-uploads.ts";
import { outboxStore } from "./store/outbox.ts";
import { startRetention } from "./store/retention.ts";
import { startDelivery } from "./sync/delivery.ts";
import { startFeedbackSender } from "./sync/feedback.ts";
import { startHeartbeat } from "./sync/heartbeat.ts";
import { edgeClient } from "./sync/edge-client.ts";
import { startProjectSync } from "./sync/projects.ts";
import { createBaileysSession, type BaileysSessionDeps } from "./whatsapp/baileys-session.ts";
import { createIngest } from "./whatsapp/ingest.ts";
import { SessionNotOpenError, type WaSession } from "./whatsapp/session.ts";
import { startSimMediaHost } from "./whatsapp/sim-media-host.ts";
import { createSimulatedSession, createSimulatorBus, type SimulatorBus } from "./whatsapp/simulator.ts";

export interface AgentOptions {
  config: AgentConfig;
  /** Watched for changes to projects when given. */
  configFile?: string;
  env: AgentEnv;
  log?: Logger;
  /** Passed to live Baileys sessions (tests point them at a local WebSocket server). */
  baileys?: Pick<BaileysSessionDeps, "socketOverrides" | "onSocket" | "printQr">;
}

export interface Agent {
  db: Db;
  log: Logger;
  metrics: Metrics;
  sessions: Map<string, WaSession>;
  simulator: SimulatorBus | undefined;
  adminUrl: string;
  health(): {
    status: "ok" | "degraded";
    sessions: SessionReport[];
    outbox: { pending: number; oldestPendingAt: string | null; rejected: number };
    delivery: { failing: boolean; lastError: string | null };
    media: MediaStats & { offline: boolean; lastError: string | null };
    /** Image records on their way to the edge; `failing`: the edge unreachable or failing (the loop backs off). */
    uploads: UploadStats & { offline: boolean; lastError: string | null };
  };
  refreshGauges(): void;
  stop(): Promise<void>;
}

// In-flight edge requests get this long after a stop begins (a batch the edge is committing), then are abandoned
// so the agent is gone within 10 s even when the edge hangs; what they carried stays queued.
const EDGE_GRACE_ON_STOP_MS = 5_000;

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const { env } = opts;
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  // Before anything touches the data directory: a second agent on it would fight over the WhatsApp sessions.
  const lock = acquireDataDirLock(env.DATA_DIR);
  if (lock.tookOverFrom !== null) {
    const previousPid = lock.tookOverFrom;
    log.warn({ dataDir: env.DATA_DIR, previousPid }, `took over the data directory from agent pid ${previousPid}, which stopped without releasing it`);
  }
  const db = openStore(env.DATA_DIR);
  const metrics = createMetrics();
  const outbox = outboxStore(db);
  let config = opts.config;
  let groups = monitoredGroups(config);
  const sessions = new Map<string, WaSession>();

  const edgeUrl = env.EDGE_URL ?? config.edgeUrl;
  const abandonEdgeRequests = new AbortController();
  const edge = edgeClient(edgeUrl, env.AGENT_TOKEN, { signal: abandonEdgeRequests.signal });
  // Delivery is defined below; the callback only runs after the first push attempt, well after that. Drops stored
  // before it wait for it, and go the moment it is made, whatever the edge answered.
  const projectSync = startProjectSync(edge, log.child({ part: "projects" }), config.backoff, () => delivery.wake());
  projectSync.push(config.projects);
  const delivery = startDelivery({
    outbox,
    edge,
    log: log.child({ part: "delivery" }),
    metrics,
    batchSize: config.delivery.batchSize,
    pollMs: config.delivery.pollMs,
    backoff: config.backoff,
    ready: projectSync.attempted,
    onUnknownGroup: () => projectSync.push(config.projects),
  });

  // Simulated WhatsApp's media servers come up before anything may download from them.
  const simMedia =
    env.WA_TRANSPORT === "simulator" ? await startSimMediaHost(db, { port: env.SIMULATOR_MEDIA_PORT, stallMs: env.SIMULATOR_MEDIA_STALL_MS }) : undefined;

  // Images: a download loop and an upload loop, both yielding to drops and sharing one bandwidth budget (a burst
  // of photos must not take the line the drops travel on, in either direction).
  const media = mediaStore(db);
  const uploads = mediaUploads(db);
  const imagesBudget = bandwidthBudget(config.media.maxBytesPerMinute);
  // Drops go first. Downloads talk to WhatsApp, so they wait only while the edge is taking drops: with the edge
  // down they go on. Uploads go to the same edge as the drops, so they wait while any drop is due, also while
  // delivery backs off: the edge coming back takes the drops before any photo.
  const dropsDue = () => projectSync.attempted() && outbox.hasDue();
  const dropsFirst = () => dropsDue() && !delivery.status().failing;
  const mediaUploader = startMediaUploads({
    store: uploads,
    edge,
    log: log.child({ part: "media-upload" }),
    metrics,
    budget: imagesBudget,
    records: {
      detector: (chatJid) => groups.get(chatJid)?.detector,
      quotedText: quotedTextReader(db),
      bytes: (sha256) => uploads.blob(sha256),
    },
    ready: projectSync.attempted,
    dropsFirst: dropsDue,
    onUnknownGroup: () => projectSync.push(config.projects),
    backoff: config.backoff,
    retryBackoff: config.media.backoff,
  });
  const mediaDownloads = startMediaDownloads({
    store: media,
    log: log.child({ part: "media" }),
    metrics,
    budget: imagesBudget,
    async reupload(names, message) {
      for (const name of names) {
        const session = sessions.get(name);
        if (!session?.updateMediaMessage || session.status().state !== "open") continue;
        try {
          return await session.updateMediaMessage(message);
        } catch (err) {
          // Closed meanwhile (Baileys rejects the wait with the close): not the image's fault; the next one may do.
          if (err instanceof SessionNotOpenError || session.status().state !== "open") continue;
          throw err;
        }
      }
      throw new MediaDownloadError("offline", "no open session of this group can ask for a re-upload");
    },
    dropsFirst,
    maxAttempts: config.media.maxAttempts,
    retryBackoff: config.media.backoff,
    offlineBackoff: config.backoff,
    onSettled: () => mediaUploader.wake(),
  });

  const ingest = createIngest({
    db,
    log: log.child({ part: "ingest" }),
    metrics,
    groups: () => groups,
    ownUsers: () => new Set([...sessions.values()].flatMap((s) => s.ownUsers())),
    captures: (name) => sessions.get(name)?.config.role !== "sender",
    resolveLid: async (name, lid) => (await sessions.get(name)?.resolveLid?.(lid)) ?? null,
    historyDays: () => config.historyDays,
    onQueued: () => delivery.wake(),
    onMedia: () => {
      mediaDownloads.wake();
      mediaUploader.wake(); // images recorded without bytes to fetch (too large, other types) go up at once
    },
  });

  const simulator = simMedia ? createSimulatorBus(db, { sendDelayMs: env.SIMULATOR_SEND_DELAY_MS, media: simMedia }) : undefined;
  for (const sc of config.sessions) {
    const session = simulator
      ? createSimulatedSession(sc, { bus: simulator, ingest, log, metrics })
      : createBaileysSession(sc, { db, log, metrics, ingest, watchdog: config.watchdog, backoff: config.backoff, ...opts.baileys });
    sessions.set(sc.name, session);
  }

  for (const s of sessions.values()) await s.start();

  const sessionReports = () =>
    [...sessions.values()].map((s) => {
      const { name, role, state, phone, lastEventAt } = s.status();
      return { name, role, state, phone, lastEventAt };
    });
  const heartbeat = startHeartbeat({
    edge,
    agent: config.agentName,
    everyMs: config.heartbeatSeconds * 1000,
    sessions: sessionReports,
    log: log.child({ part: "heartbeat" }),
  });
  const feedback = startFeedbackSender({
    db,
    edge,
    sessions: () => [...sessions.values()],
    groups: () => new Set(config.projects.map((p) => p.groupJid)),
    log: log.child({ part: "feedback" }),
    pollMs: config.feedback.pollMs,
    batchSize: config.feedback.batchSize,
    backoff: config.backoff,
    ready: projectSync.attempted,
  });

  const retention = startRetention(db, { days: config.retentionDays, mediaDays: config.media.retentionDays }, log.child({ part: "retention" }));

  let unwatch = () => {};
  if (opts.configFile) {
    const file = opts.configFile;
    // Polling the file's stat survives editors and config mounts that replace the file rather than write it.
    const onChange = (now: Stats, before: Stats) => {
      if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
      try {
        const next = loadConfigFile(file);
        if (JSON.stringify(next.sessions) !== JSON.stringify(config.sessions)) {
          log.warn("session changes in the config take effect after a restart");
        }
        config = { ...config, projects: next.projects };
        groups = monitoredGroups(config);
        projectSync.push(config.projects);
        log.info({ projects: config.projects.length }, "config reloaded");
      } catch (err) {
        const problems = err instanceof ConfigFileError ? err.problems : [(err as Error).message];
        log.error({ problems }, "config change rejected; keeping the previous config");
      }
    };
    watchFile(file, { interval: 1000, persistent: false }, onChange);
    unwatch = () => unwatchFile(file, onChange);
  }

  const agent: Agent = {
    db,
    log,
    metrics,
    sessions,
    simulator,
    adminUrl: "",
    health() {
      const ss = sessionReports();
      const d = delivery.status();
      const allOpen = ss.every((s) => s.state === "open");
      return {
        status: allOpen && !d.failing ? "ok" : "degraded",
        sessions: ss,
        outbox: outbox.stats(),
        delivery: d,
        media: { ...media.stats(), ...mediaDownloads.status() },
        uploads: { ...uploads.stats(), offline: mediaUploader.status().failing, lastError: mediaUploader.status().lastError },
      };
    },
    refreshGauges() {
      const stats = outbox.stats();
      metrics.outboxPending.set(stats.pending);
      metrics.outboxRejected.set(stats.rejected);
      const m = media.stats();
      const states = { pending_download: m.pending, downloaded: m.downloaded, too_large: m.tooLarge, unsupported: m.unsupported, failed: m.failed, skipped: m.skipped };
      for (const [state, n] of Object.entries(states)) metrics.media.set({ state }, n);
      metrics.mediaBlobBytes.set(m.blobBytes);
      const u = uploads.stats();
      for (const [state, n] of Object.entries(u)) metrics.mediaUploadState.set({ state }, n);
    },
    stop: async () => {},
  };

  const app = createAdminApp(agent);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: env.ADMIN_PORT, hostname: env.ADMIN_HOST }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  agent.adminUrl = `http://${env.ADMIN_HOST}:${port}`;
  log.info({ admin: agent.adminUrl, transport: env.WA_TRANSPORT, sessions: [...sessions.keys()] }, "agent started");

  let stopping: Promise<void> | undefined;
  agent.stop = () =>
    (stopping ??= (async () => {
      const abandon = setTimeout(() => abandonEdgeRequests.abort(), EDGE_GRACE_ON_STOP_MS);
      unwatch();
      retention.stop();
      await feedback.stop(); // finishes a send in progress and its ack
      // A download in progress is abandoned (its record stays pending) before the sessions it may ask for a
      // re-upload close under it.
      await mediaDownloads.stop();
      // An upload in flight gets the edge grace above; its record stays waiting if it does not finish.
      await mediaUploader.stop();
      // Each stop resolves once what its sockets received is stored (Baileys' buffer flushed, ingest settled).
      await Promise.all([...sessions.values()].map((s) => s.stop().catch((err) => log.error({ err }, "stopping session"))));
      await heartbeat.stop();
      await simMedia?.stop();
      await delivery.stop();
      await projectSync.stop();
      await new Promise<void>((r) => server.close(() => r()));
      clearTimeout(abandon);
      closeStore(db);
      lock.release();
      log.info("agent stopped");
    })());
  return agent;
}
