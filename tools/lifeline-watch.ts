// The lifeline's watcher (see processes.ts). Reads registrations from its stdin, a pipe held by the launcher;
// when that pipe closes — the launcher exited or was killed — it stops every part still registered, newest
// first, then exits. Run as its own detached process: a Ctrl-C in the launcher's terminal never reaches it.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { stopInSteps, type Target } from "./processes.ts";

const parts = new Map<number, Target>(); // insertion order is start order

// Orphaned by the launcher, an exited part stays a zombie until init reaps it, and some inits (containers,
// micro-VMs) take their time: on Linux a zombie counts as gone.
const zombie = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").startsWith("Z");
  } catch {
    return false;
  }
};

const gone = (pid: number) => () => {
  try {
    process.kill(pid, 0);
    return zombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
};

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const msg = JSON.parse(line) as { add?: Target; remove?: number };
  if (msg.add) parts.set(msg.add.pid, msg.add);
  if (msg.remove !== undefined) parts.delete(msg.remove);
});
lines.on("close", async () => {
  for (const target of [...parts.values()].reverse()) {
    process.stderr.write(`[lifeline] the launcher is gone; stopping pid ${target.pid}\n`);
    await stopInSteps(target, gone(target.pid));
  }
  process.exit(0);
});
