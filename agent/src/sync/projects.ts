// Keeps the edge's project list in step with agent.yaml: pushed at start and after every config change,
// retried with backoff until the edge takes it.
import type { Logger } from "pino";
import type { AgentConfig } from "../config.ts";
import { EdgeError, type EdgeClient } from "./edge-client.ts";
import { startLoop } from "./loop.ts";

/** `onAttempted` runs after every push, taken or not: delivery holds drops back until the first one. */
export function startProjectSync(edge: EdgeClient, log: Logger, backoff: AgentConfig["backoff"], onAttempted?: () => void) {
  // Held in an object so TypeScript does not narrow it across the awaits below.
  const pending: { wanted: AgentConfig["projects"] | null } = { wanted: null };
  let synced = false;
  let attempted = false;
  // Drops need not wait for a list the edge refuses: those of a group it lacks come back unknown_group.
  const markAttempted = () => {
    attempted = true;
    onAttempted?.();
  };

  const loop = startLoop({
    // Nothing to push: wait for push() to wake us (a new list goes at once, also while an old one backs off).
    pollMs: 60_000,
    backoff,
    async pass() {
      const projects = pending.wanted;
      if (!projects) return "idle";
      try {
        await edge.putProjects(projects.map(({ name, groupJid, enabled, description }) => ({ name, groupJid, enabled, description })));
      } catch (err) {
        markAttempted();
        throw err;
      }
      if (pending.wanted === projects) pending.wanted = null;
      synced = true;
      markAttempted();
      log.info({ projects: projects.length }, "projects pushed to the edge");
      return "more";
    },
    onFailed: ({ err, retryInMs }) => {
      const refused = err instanceof EdgeError && !err.retryable;
      // Refused (e.g. a 409) needs a person; unreachable fixes itself. Either way keep trying.
      log[refused ? "error" : "warn"]({ err: (err as Error).message, retryInMs }, refused ? "the edge refuses our project list; fix agent.yaml or the edge" : "could not push projects to the edge");
    },
  });

  return {
    push(projects: AgentConfig["projects"]) {
      pending.wanted = projects;
      loop.wake();
    },
    synced: () => synced,
    /** Whether a push has been tried: drops wait for that, not for success, so a refused list cannot hold up
     * delivery (drops of a group the edge lacks come back unknown_group and are retried later). */
    attempted: () => attempted,
    stop: loop.stop,
  };
}
