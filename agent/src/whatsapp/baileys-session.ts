// A live WhatsApp session on Baileys v7: SQL auth state, QR or pairing-code login, the connection rules,
// a watchdog for sockets that are open but silent, and the send path.
import makeWASocket, { Browsers, fetchLatestWaWebVersion, type GroupMetadata, type SocketConfig, type WASocket } from "baileys";
import type { Logger } from "pino";
import QRCode from "qrcode";
import type { AgentConfig, SessionConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import { useSqlAuthState, wipeAuthState } from "../store/auth-state.ts";
import type { Db } from "../store/db.ts";
import { messageReader } from "../store/messages.ts";
import { decideOnClose, type SessionState } from "./connection-rules.ts";
import type { Ingest } from "./ingest.ts";
import type { SessionStatus, WaSession } from "./session.ts";
import { wireMessageEvents } from "./wire.ts";
import { jidUser } from "../detect/extract.ts";

export interface BaileysSessionDeps {
  db: Db;
  log: Logger;
  metrics: Metrics;
  ingest: Ingest;
  watchdog: AgentConfig["watchdog"];
  backoff: AgentConfig["backoff"];
  /** Where a QR is printed for the operator (the terminal by default). */
  printQr?: (session: string, qr: string) => void;
  /** Extra Baileys socket options (tests point waWebSocketUrl at a local server). */
  socketOverrides?: Partial<SocketConfig>;
  /** Called with every socket created (tests observe the real socket's events). */
  onSocket?: (session: string, sock: WASocket) => void;
}

export function createBaileysSession(config: SessionConfig, deps: BaileysSessionDeps): WaSession {
  const log = deps.log.child({ session: config.name });
  const readMessage = messageReader(deps.db);
  const groupCache = new Map<string, GroupMetadata>();
  let sock: WASocket | undefined;
  let state: SessionState = "closed";
  let detail: string | null = null;
  let qr: string | null = null;
  let pairingCode: string | null = null;
  let lastEventAt: number | null = null;
  let attempt = 0;
  let triedLatestVersion = false;
  let version: [number, number, number] | undefined;
  let stopped = true;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let watchdogTimer: NodeJS.Timeout | undefined;
  let me: { id?: string | undefined; lid?: string | undefined } = {};

  const setState = (s: SessionState, why?: string) => {
    if (s !== state) log.info({ from: state, to: s, why }, "session state");
    deps.metrics.sessionState.set({ session: config.name, state }, 0);
    state = s;
    detail = why ?? null;
    deps.metrics.sessionState.set({ session: config.name, state: s }, 1);
  };
  const touch = () => {
    lastEventAt = Date.now();
  };

  const printQr =
    deps.printQr ??
    ((name: string, code: string) => {
      void QRCode.toString(code, { type: "terminal", small: true }).then((art) =>
        process.stdout.write(`\nScan with WhatsApp (Linked devices) to pair session "${name}":\n${art}\n`),
      );
    });

  function connect(): void {
    if (stopped) return;
    const auth = useSqlAuthState(deps.db, config.name, log);
    me = { id: auth.state.creds.me?.id, lid: auth.state.creds.me?.lid };
    setState("connecting");
    const socket = makeWASocket({
      auth: auth.state,
      // Baileys is chatty: warnings and up, unless we debug (or log less than that anyway).
      logger: log.child({ module: "baileys" }, { level: log.isLevelEnabled("debug") ? "debug" : log.isLevelEnabled("warn") ? "warn" : log.level }) as never,
      browser: Browsers.ubuntu("wa-monitor"),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      ...(version ? { version } : {}),
      getMessage: async (key) => (key.remoteJid && key.id ? readMessage(key.remoteJid, key.id)?.message ?? undefined : undefined),
      cachedGroupMetadata: async (jid) => groupCache.get(jid),
      ...deps.socketOverrides,
    });
    sock = socket;
    deps.onSocket?.(config.name, socket);
    socket.ev.on("creds.update", () => {
      touch();
      auth.saveCreds();
      me = { id: auth.state.creds.me?.id, lid: auth.state.creds.me?.lid };
    });
    socket.ev.on("groups.update", (updates) => {
      for (const u of updates) if (u.id && groupCache.has(u.id)) groupCache.set(u.id, { ...groupCache.get(u.id)!, ...u });
    });
    socket.ev.on("groups.upsert", (groups) => {
      for (const g of groups) groupCache.set(g.id, g);
    });
    wireMessageEvents(socket.ev, config.name, deps.ingest, log, touch);
    socket.ev.on("connection.update", (u) => {
      if (sock !== socket) return; // a replaced socket's last words
      touch();
      if (u.qr) {
        qr = u.qr;
        setState("qr", "waiting to be paired");
        if (config.phone && !pairingCode) {
          socket.requestPairingCode(config.phone).then(
            (code) => {
              pairingCode = code;
              log.warn({ pairingCode: code }, `pairing code for +${config.phone}: enter it under Linked devices`);
            },
            (err) => log.error({ err }, "could not request a pairing code"),
          );
        } else if (!config.phone) {
          printQr(config.name, u.qr);
        }
      }
      if (u.connection === "open") {
        attempt = 0;
        qr = null;
        pairingCode = null;
        me = { id: socket.user?.id, lid: (socket.user as { lid?: string } | undefined)?.lid };
        setState("open");
      }
      if (u.connection === "close") onClose(socket, (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode);
    });
  }

  function onClose(socket: WASocket, statusCode: number | undefined): void {
    if (sock !== socket) return;
    sock = undefined;
    socket.end(undefined); // make sure the old socket is gone before any new one

    if (stopped) return setState("closed", "stopped");
    const d = decideOnClose(statusCode, { attempt, triedLatestVersion, backoff: deps.backoff });
    switch (d.action) {
      case "logged_out":
        wipeAuthState(deps.db, config.name);
        qr = null;
        pairingCode = null;
        log.error({ statusCode }, `SESSION ${config.name} LOGGED OUT: ${d.reason}. Restart the agent to pair it again.`);
        return setState("logged_out", d.reason);
      case "stop":
        log.warn({ statusCode }, d.reason);
        return setState("closed", d.reason);
      case "failed":
        log.error({ statusCode }, d.reason);
        return setState("failed", d.reason);
      case "restart":
        log.info(d.reason);
        return connect();
      case "update_version":
        triedLatestVersion = true;
        fetchLatestWaWebVersion()
          .then((v) => {
            version = v.version as [number, number, number];
            log.warn({ version }, `${d.reason}; retrying with the latest version`);
          })
          .catch((err) => log.error({ err }, "could not fetch the latest WA Web version"))
          .finally(connect);
        return;
      case "reconnect":
        attempt++;
        setState("connecting", `${d.reason}; retry in ${d.delayMs} ms`);
        log.warn({ statusCode, delayMs: d.delayMs, attempt }, d.reason);
        reconnectTimer = setTimeout(connect, d.delayMs);
        return;
    }
  }

  function restartSocket(why: string): void {
    const old = sock;
    sock = undefined;
    old?.end(new Error(why));
    connect();
  }

  function watchdog(): void {
    if (state !== "open" || lastEventAt === null) return;
    const silentMs = Date.now() - lastEventAt;
    if (silentMs > deps.watchdog.staleAfterSeconds * 1000) {
      setState("stale", `no event for ${Math.round(silentMs / 1000)} s`);
      log.warn({ silentMs }, "session stale; restarting its socket");
      restartSocket("stale");
    }
  }

  return {
    config,
    status: (): SessionStatus => ({
      name: config.name,
      role: config.role,
      state,
      phone: jidUser(me.id) ? `+${jidUser(me.id)}` : config.phone ? `+${config.phone}` : null,
      lastEventAt: lastEventAt ? new Date(lastEventAt).toISOString() : null,
      qr,
      pairingCode,
      detail,
    }),
    ownUsers: () => [jidUser(me.id), jidUser(me.lid)].filter((u): u is string => !!u),
    async start() {
      stopped = false;
      connect();
      watchdogTimer = setInterval(watchdog, deps.watchdog.checkEverySeconds * 1000);
      watchdogTimer.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(watchdogTimer);
      const s = sock;
      sock = undefined;
      s?.end(undefined);
      setState("closed", "stopped");
    },
    async send(chatJid, text, mentions = [], options = {}) {
      if (!sock || state !== "open") throw new Error(`session ${config.name} is not open (${state})`);
      const sent = await sock.sendMessage(chatJid, { text, mentions }, options.messageId ? { messageId: options.messageId } : {});
      if (!sent?.key.id) throw new Error("WhatsApp returned no message id");
      return { waMessageId: sent.key.id };
    },
    async resolveLid(lid) {
      return (await sock?.signalRepository.lidMapping.getPNForLID(lid)) ?? null;
    },
  };
}
