// Connects a session's event source (Baileys' sock.ev, or the simulator's emitter) to the ingest handler.
import type { Logger } from "pino";
import type { Ingest } from "./ingest.ts";
import { isolated } from "./isolate.ts";
import type { MessageEventSource, MessageEvents } from "./session.ts";

export type MessageWiring = ReturnType<typeof messageWiring>;

/** One per session: every socket the session opens is wired through it, so `settled` covers them all. */
export function messageWiring(session: string, ingest: Ingest, log: Logger, touch: () => void) {
  const inFlight = new Set<Promise<unknown>>();
  const run = (p: Promise<unknown>) => {
    const tracked = p.catch((err) => log.error({ err, session }, "storing messages failed")).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const handlers: { [E in keyof MessageEvents]: (arg: MessageEvents[E]) => void } = {
    "messages.upsert": ({ messages, type }) => {
      touch();
      run(ingest.handle(session, messages, type));
    },
    "messaging-history.set": ({ messages, lidPnMappings }) => {
      touch();
      if (lidPnMappings?.length) ingest.rememberLids(lidPnMappings);
      run(ingest.handle(session, messages, "history"));
    },
    "lid-mapping.update": (mapping) => {
      touch();
      ingest.rememberLids([mapping]);
    },
  };
  const names = Object.keys(handlers) as (keyof MessageEvents)[];
  const guarded = Object.fromEntries(names.map((name) => [name, isolated(log, session, name, handlers[name] as (arg: unknown) => void)])) as {
    [E in keyof MessageEvents]: (arg: MessageEvents[E]) => void;
  };
  return {
    listen(ev: MessageEventSource) {
      ev.on("messages.upsert", guarded["messages.upsert"]);
      ev.on("messaging-history.set", guarded["messaging-history.set"]);
      ev.on("lid-mapping.update", guarded["lid-mapping.update"]);
    },
    /** Events in the shape Baileys' `ev.process` hands them over: one object keyed by event name. */
    dispatch(events: Partial<MessageEvents>) {
      for (const name of names) if (events[name]) (guarded[name] as (arg: unknown) => void)(events[name]);
    },
    /** Resolves when every message handed over so far is stored (LID lookups included). */
    settled: async () => {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

export function wireMessageEvents(ev: MessageEventSource, session: string, ingest: Ingest, log: Logger, touch: () => void) {
  const wiring = messageWiring(session, ingest, log, touch);
  wiring.listen(ev);
  return wiring;
}
