// Event listeners that cannot hurt anyone else. Baileys emits from its own timers and WebSocket callbacks: a
// listener that throws there becomes an uncaught exception or an unhandled rejection (the whole process, every
// session), and inside one emit it also cuts short the other listeners and the rest of a flushed event batch.
import type { Logger } from "pino";

export function isolated<A extends unknown[]>(log: Logger, session: string, event: string, listener: (...args: A) => unknown) {
  const report = (err: unknown) => log.error({ err, session, event }, "event listener failed; the session carries on");
  return (...args: A): void => {
    try {
      const result = listener(...args);
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  };
}
