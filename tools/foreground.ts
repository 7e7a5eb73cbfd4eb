// Keeps a started stack in the foreground: Ctrl-C / SIGTERM shut it down cleanly, and so does any part dying.
import type { Log } from "./log.ts";
import type { Stack } from "./stack.ts";

export function holdInForeground(stack: Stack, say: Log, beforeStop: () => void = () => {}): void {
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${why}; shutting down`);
    beforeStop();
    await stack.stop();
    say("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT", 0));
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  void stack.failed.then((why) => shutdown(why, 1));
}
