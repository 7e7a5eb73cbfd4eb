// Tells the edge every `heartbeatSeconds` which sessions this agent has and in what state, so the dashboard
// can show session health and the edge can flag an agent that went quiet. A failing edge is logged once, not
// every beat, and the beat keeps its pace: the next one is the retry.
import type { SessionReport } from "@wa-monitor/shared";
import type { Logger } from "pino";
import type { EdgeClient } from "./edge-client.ts";
import { startLoop } from "./loop.ts";

export function startHeartbeat(opts: { edge: EdgeClient; agent: string; everyMs: number; sessions: () => SessionReport[]; log: Logger }) {
  const loop = startLoop({
    pollMs: opts.everyMs,
    pass: async () => {
      await opts.edge.heartbeat({ agent: opts.agent, sessions: opts.sessions() });
      return "idle";
    },
    onFailed: ({ err, inARow }) => {
      if (inARow === 1) opts.log.warn({ err: (err as Error).message }, "heartbeat failed");
    },
    onRecovered: () => opts.log.info("heartbeat delivered again"),
  });
  return { stop: loop.stop };
}
