// Tells the edge every `heartbeatSeconds` which sessions this agent has and in what state, so the dashboard
// can show session health and the edge can flag an agent that went quiet.
import type { SessionReport } from "@wa-monitor/shared";
import type { Logger } from "pino";
import { wakeableSleep } from "./backoff.ts";
import type { EdgeClient } from "./edge-client.ts";

export function startHeartbeat(opts: { edge: EdgeClient; agent: string; everyMs: number; sessions: () => SessionReport[]; log: Logger }) {
  const sleeper = wakeableSleep();
  let stopped = false;
  let failing = false;
  const done = (async () => {
    while (!stopped) {
      try {
        await opts.edge.heartbeat({ agent: opts.agent, sessions: opts.sessions() });
        if (failing) opts.log.info("heartbeat delivered again");
        failing = false;
      } catch (err) {
        if (!failing) opts.log.warn({ err: (err as Error).message }, "heartbeat failed");
        failing = true;
      }
      await sleeper.sleep(opts.everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      sleeper.wake();
      await done;
    },
  };
}
