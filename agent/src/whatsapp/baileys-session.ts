// A live WhatsApp session on Baileys v7: SQL auth state, QR or pairing-code login, the connection rules,
// a watchdog for sockets that receive nothing, group metadata for sends, and the send path.
import { jidUser } from "@wa-monitor/shared";
import makeWASocket, {
  Browsers,
  fetchLatestWaWebVersion,
  isJidGroup,
  type AuthenticationCreds,
  type BaileysEventMap,
  type SocketConfig,
  type WASocket,
} from "baileys";
import type { Logger } from "pino";
import QRCode from "qrcode";
import type { AgentConfig, SessionConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import { useSqlAuthState, wipeAuthState } from "../store/auth-state.ts";
import type { Db } from "../store/db.ts";
import { messageReader } from "../store/messages.ts";
import { decideOnClose, type SessionState } from "./connection-rules.ts";
import { createGroupCache } from "./group-cache.ts";
import type { Ingest } from "./ingest.ts";
import { isolated } from "./isolate.ts";
import { forgetUnfinishedPairing } from "./pairing.ts";
import { SessionNotOpenError, type SessionStatus, type WaSession } from "./session.ts";
import { messageWiring } from "./wire.ts";

/**
 * How long a closed socket's events are still taken. A message whose receipt went out just before the close
 * reaches Baileys' upsertMessage after the emitter is destroyed, and Baileys releases it 100 ms later.
 */
const LATE_EVENTS_MS = 500;
/** How long stop() waits for a socket to close: Baileys waits for the WebSocket close handshake (30 s at most). */
const CLOSE_WAIT_MS = 3000;

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
  const groups = createGroupCache(log);
  let sock: WASocket | undefined;
  let state: SessionState = "closed";
  let detail: string | null = null;
  let qr: string | null = null;
  let pairingCode: string | null = null;
  let lastEventAt: number | null = null;
  /** When the current socket last received anything from WhatsApp (keepalive answers included). */
  let lastReceivedAt = 0;
  let attempt = 0;
  let triedLatestVersion = false;
  let version: [number, number, number] | undefined;
  let stopped = true;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let watchdogTimer: NodeJS.Timeout | undefined;
  let me: { id?: string | undefined; lid?: string | undefined } = {};
  /** The last socket's LID store: it reads our keys table, so it still answers for messages drained at a close. */
  let lidMapping: WASocket["signalRepository"]["lidMapping"] | undefined;
  /** Sockets closing, until their last events are handed over. */
  const closing = new Map<WASocket, Promise<void>>();

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
  const wiring = messageWiring(config.name, deps.ingest, log, touch);
  const rememberMe = (creds: AuthenticationCreds) => {
    me = { id: creds.me?.id, lid: creds.me?.lid };
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
    if (forgetUnfinishedPairing(auth.state.creds)) {
      auth.saveCreds();
      log.info("cleared an unfinished pairing; this connection registers afresh");
    }
    rememberMe(auth.state.creds);
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
      cachedGroupMetadata: async (jid) => groups.get(jid),
      ...deps.socketOverrides,
    });
    sock = socket;
    lidMapping = socket.signalRepository.lidMapping;
    lastReceivedAt = Date.now();
    socket.ws.on("message", () => {
      if (sock === socket) lastReceivedAt = Date.now();
    });
    deps.onSocket?.(config.name, socket);

    const on = <E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => unknown) =>
      socket.ev.on(event, isolated(log, config.name, event, listener));
    on("creds.update", () => {
      touch();
      auth.saveCreds();
      rememberMe(auth.state.creds);
    });
    on("groups.update", (updates) => updates.forEach(groups.update));
    on("groups.upsert", (upserts) => upserts.forEach(groups.set));
    on("group-participants.update", ({ id, action, participants }) => {
      groups.applyParticipants(id, action, participants);
      groups.refresh(id, socket.groupMetadata);
    });
    wiring.listen(socket.ev);
    let codeRequested = false;
    on("connection.update", (u) => {
      // Baileys destroys its event buffer right after this event: flush it whoever closed the socket.
      if (u.connection === "close") void drain(socket);
      if (sock !== socket) return; // a replaced socket's last words
      touch();
      if (u.qr) {
        qr = u.qr;
        setState("qr", "waiting to be paired");
        if (config.phone && !codeRequested) {
          // Once per connection: each connection of an unpaired session registers afresh and needs its own code.
          codeRequested = true;
          socket.requestPairingCode(config.phone).then(
            (code) => {
              if (sock !== socket) return;
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
        lastReceivedAt = Date.now();
        me = { id: socket.user?.id, lid: (socket.user as { lid?: string } | undefined)?.lid };
        setState("open");
        socket.groupFetchAllParticipating().then(
          (all) => Object.values(all).forEach(groups.set),
          (err) => log.warn({ err }, "could not fetch group metadata; it is fetched on the first send instead"),
        );
      }
      if (u.connection === "close") {
        qr = null;
        pairingCode = null;
        if (forgetUnfinishedPairing(auth.state.creds)) auth.saveCreds();
        onClose((u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode);
      }
    });
  }

  /**
   * Hands over everything a closing socket still holds, then ends it. Flushed at once; then the socket's end()
   * settles once Baileys has destroyed the emitter, and from then on events reach only listeners on its raw
   * channel (`ev.process`), for a short while.
   */
  function drain(socket: WASocket): Promise<void> {
    socket.ev.flush();
    let done = closing.get(socket);
    if (!done) {
      done = socket
        .end(undefined)
        .then(
          () =>
            new Promise<void>((resolve) => {
              const stopListening = socket.ev.process(isolated(log, config.name, "late events", wiring.dispatch));
              setTimeout(() => {
                socket.ev.flush();
                stopListening();
                resolve();
              }, LATE_EVENTS_MS);
            }),
        )
        .catch((err) => log.error({ err }, "closing the socket failed"))
        .finally(() => closing.delete(socket));
      closing.set(socket, done);
    }
    return done;
  }

  function onClose(statusCode: number | undefined): void {
    sock = undefined;
    if (stopped) return setState("closed", "stopped");
    const d = decideOnClose(statusCode, { attempt, triedLatestVersion, backoff: deps.backoff });
    switch (d.action) {
      case "logged_out":
        wipeAuthState(deps.db, config.name);
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

  /** Baileys ends a socket whose keepalive pings go unanswered; this catches a socket where even that failed. */
  function watchdog(): void {
    if (state !== "open" || !sock) return;
    const silentMs = Date.now() - lastReceivedAt;
    if (silentMs > deps.watchdog.staleAfterSeconds * 1000) {
      setState("stale", `nothing received for ${Math.round(silentMs / 1000)} s`);
      log.warn({ silentMs }, "session stale; restarting its socket");
      const old = sock;
      sock = undefined;
      void drain(old);
      connect();
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
    /** Resolves once what the sockets received is stored: nothing may be lost when the store closes next. */
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(watchdogTimer);
      const s = sock;
      sock = undefined;
      if (s) void drain(s);
      setState("closed", "stopped");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(closing.values()),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS + LATE_EVENTS_MS))),
      ]);
      clearTimeout(timer);
      await wiring.settled();
    },
    async send(chatJid, text, mentions = [], options = {}) {
      const s = sock;
      if (!s || state !== "open") throw new Error(`session ${config.name} is not open (${state})`);
      let sent;
      try {
        sent = await s.sendMessage(chatJid, { text, mentions }, options.messageId ? { messageId: options.messageId } : {});
      } catch (err) {
        // Perhaps encrypted for an old member list: the retry must not use it.
        if (isJidGroup(chatJid)) {
          groups.invalidate(chatJid);
          groups.refresh(chatJid, s.groupMetadata);
        }
        // Baileys rejects a query cut short by a closing WebSocket with the bare close code.
        throw err instanceof Error ? err : new Error(`sending failed (${String(err)})`);
      }
      if (!sent?.key.id) throw new Error("WhatsApp returned no message id");
      return { waMessageId: sent.key.id };
    },
    async updateMediaMessage(message) {
      const s = sock;
      if (!s || state !== "open") throw new SessionNotOpenError(config.name, state);
      return s.updateMediaMessage(message);
    },
    async resolveLid(lid) {
      return (await lidMapping?.getPNForLID(lid)) ?? null;
    },
  };
}
