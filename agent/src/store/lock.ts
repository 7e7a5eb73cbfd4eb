// One agent per data directory: two processes on the same WhatsApp sessions fight (440) and corrupt them.
//
// The lock is an exclusive SQLite lock on DATA_DIR/agent.lock (a kernel fcntl lock, taken with busy_timeout 0 and
// kept by locking_mode=EXCLUSIVE for the life of the connection). The kernel releases it when the process dies,
// however it dies, so a lock left by a killed agent is simply taken by the next one. SQLite also refuses a second
// connection in the same process, so in-process agents obey the same rule. agent.pid beside it names the holder
// for the refusal message; it is removed on a clean stop, so finding one when the lock is free means the last
// holder died without stopping.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export class DataDirLockedError extends Error {
  readonly holderPid: number | null;
  constructor(dataDir: string, holderPid: number | null) {
    super(
      `DATA_DIR ${dataDir} is in use by another agent (pid ${holderPid ?? "unknown"}); ` +
        "only one agent may run on a data directory — stop that one first, or give this one its own DATA_DIR",
    );
    this.holderPid = holderPid;
  }
}

export interface DataDirLock {
  /** pid of a previous holder that died without releasing (its lock was taken over), if any. */
  tookOverFrom: number | null;
  release(): void;
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const pidFile = path.join(dir, "agent.pid");
  const db = new Database(path.join(dir, "agent.lock"));
  try {
    db.pragma("busy_timeout = 0");
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; COMMIT");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") throw new DataDirLockedError(dir, readPid(pidFile));
    throw err;
  }
  const previous = readPid(pidFile);
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    tookOverFrom: previous,
    release() {
      if (!db.open) return;
      // The pid file goes first: whoever takes the lock next must not read ours as a crashed holder.
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
