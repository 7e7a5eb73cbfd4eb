// Keeps the edge's project list in step with agent.yaml: pushed at start and after every config change,
// retried with backoff until the edge takes it.
import type { Logger } from "pino";
import type { AgentConfig } from "../config.ts";
import { backoffDelay, wakeableSleep } from "./backoff.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";

/** `onAttempted` runs after every push, taken or not: delivery holds drops back until the first one. */
export function startProjectSync(edge: EdgeClient, log: Logger, backoff: AgentConfig["backoff"], onAttempted?: () => void) {
  // Held in an object so TypeScript does not narrow it across the awaits below.
  const pending: { wanted: AgentConfig["projects"] | null } = { wanted: null };
  let stopped = false;
  const sleeper = wakeableSleep();
  let synced = false;
  let attempted = false;

  const done = (async () => {
    let attempt = 0;
    while (!stopped) {
      const projects = pending.wanted;
      if (!projects) {
        await sleeper.sleep(60_000);
        continue;
      }
      try {
        await edge.putProjects(projects.map(({ name, groupJid, enabled, description }) => ({ name, groupJid, enabled, description })));
        if (pending.wanted === projects) pending.wanted = null;
        synced = true;
        attempt = 0;
        attempted = true;
        onAttempted?.();
        log.info({ projects: projects.length }, "projects pushed to the edge");
      } catch (err) {
        // Drops need not wait for a list the edge refuses: those of a group it lacks come back unknown_group.
        attempted = true;
        onAttempted?.();
        const delay = backoffDelay(attempt++, backoff.initialMs, backoff.maxMs);
        const refused = err instanceof EdgeError && !err.retryable;
        // Refused (e.g. a 409) needs a person; unreachable fixes itself. Either way keep trying.
        log[refused ? "error" : "warn"]({ err: (err as Error).message, retryInMs: delay }, refused ? "the edge refuses our project list; fix agent.yaml or the edge" : "could not push projects to the edge");
        await sleeper.sleep(delay);
      }
    }
  })();

  return {
    push(projects: AgentConfig["projects"]) {
      pending.wanted = projects;
      sleeper.wake();
    },
    synced: () => synced,
    /** Whether a push has been tried: drops wait for that, not for success, so a refused list cannot hold up
     * delivery (drops of a group the edge lacks come back unknown_group and are retried later). */
    attempted: () => attempted,
    async stop() {
      stopped = true;
      sleeper.wake();
      await done;
    },
  };
}
