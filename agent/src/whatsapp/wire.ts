// Connects a session's event source (Baileys' sock.ev, or the simulator's emitter) to the ingest handler.
import type { Logger } from "pino";
import type { Ingest } from "./ingest.ts";
import type { MessageEventSource } from "./session.ts";

export function wireMessageEvents(ev: MessageEventSource, session: string, ingest: Ingest, log: Logger, touch: () => void) {
  const inFlight = new Set<Promise<unknown>>();
  const run = (p: Promise<unknown>) => {
    const tracked = p.catch((err) => log.error({ err, session }, "storing messages failed")).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  ev.on("messages.upsert", ({ messages, type }) => {
    touch();
    run(ingest.handle(session, messages, type));
  });
  ev.on("messaging-history.set", ({ messages, lidPnMappings }) => {
    touch();
    if (lidPnMappings?.length) ingest.rememberLids(lidPnMappings);
    run(ingest.handle(session, messages, "history"));
  });
  ev.on("lid-mapping.update", (mapping) => {
    touch();
    ingest.rememberLids([mapping]);
  });
  return {
    /** Resolves when every message handed over so far is stored. */
    settled: async () => {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}
