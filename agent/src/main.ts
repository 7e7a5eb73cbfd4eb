#!/usr/bin/env node
// Entry point of the agent: `run` (default), `check-config [file]`, `backup <file>`, `requeue-rejected`.
import path from "node:path";
import { ConfigFileError, loadConfigFile } from "./config.ts";
import { startAgent } from "./agent.ts";
import { AgentEnv, loadEnv } from "./env.ts";
import { createLogger } from "./log.ts";
import { backupStore } from "./store/backup.ts";
import { openExistingStore } from "./store/db.ts";
import { DataDirLockedError } from "./store/lock.ts";
import { requeueRejected } from "./store/outbox.ts";

const [command = "run", ...args] = process.argv.slice(2);

function fail(message: string): never {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
  process.exit(1);
}

function config(file: string) {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigFileError) fail(`invalid config:\n${err.problems.map((p) => `  ${p}`).join("\n")}`);
    throw err;
  }
}

switch (command) {
  case "check-config": {
    const file = args[0] ?? process.env.AGENT_CONFIG ?? "agent.yaml";
    const c = config(file);
    process.stdout.write(
      `${file}: ok — ${c.sessions.length} session(s) (${c.sessions.map((s) => `${s.name}:${s.role}`).join(", ")}), ` +
        `${c.projects.length} project(s), ${c.projects.filter((p) => p.enabled).length} enabled\n`,
    );
    break;
  }
  case "backup": {
    const target = args[0] ?? fail("usage: agent backup <file>");
    const dataDir = AgentEnv.shape.DATA_DIR.parse(process.env.DATA_DIR);
    const pages = await backupStore(dataDir, path.resolve(target));
    process.stdout.write(`backed up ${path.join(dataDir, "agent.sqlite")} to ${path.resolve(target)} (${pages} pages)\n`);
    break;
  }
  case "requeue-rejected": {
    // Safe beside a running agent: one short transaction on the WAL store, no lock of the data directory.
    const dataDir = AgentEnv.shape.DATA_DIR.parse(process.env.DATA_DIR);
    let db;
    try {
      db = openExistingStore(dataDir);
    } catch (err) {
      fail((err as Error).message);
    }
    const n = requeueRejected(db);
    db.close(); // no checkpoint: that is the running agent's job
    process.stdout.write(`requeued ${n} rejected outbox row(s) in ${path.resolve(dataDir, "agent.sqlite")}; the agent delivers them within its next poll\n`);
    break;
  }
  case "run": {
    let env;
    try {
      env = loadEnv();
    } catch (err) {
      fail((err as Error).message);
    }
    const log = createLogger(env.LOG_LEVEL);
    // One stray error must not take every session down with it (Node's default is to exit): log it, carry on.
    process.on("unhandledRejection", (err) => log.error({ err }, "unhandled promise rejection; the agent carries on"));
    process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception; the agent carries on"));
    let agent;
    try {
      agent = await startAgent({ config: config(env.AGENT_CONFIG), configFile: env.AGENT_CONFIG, env, log });
    } catch (err) {
      if (err instanceof DataDirLockedError) fail(err.message);
      throw err;
    }
    const shutdown = (signal: string) => {
      // Whatever happens, be gone within 10 s: armed before anything else, even a log write, can get stuck.
      setTimeout(() => {
        log.error("shutdown took over 10 s; exiting");
        process.exit(1);
      }, 10_000).unref();
      log.info({ signal }, "shutting down");
      agent.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
    break;
  }
  default:
    fail(`unknown command ${command}; use run, check-config [file], backup <file> or requeue-rejected`);
}
