// Applies migrations/NNNN_name.sql in order, each in its own transaction, recorded in schema_migrations.
// A session-level advisory lock makes concurrent runners wait for each other instead of racing. The same
// runner serves local Postgres and Neon (DATABASE_URL, the direct endpoint), over plain TCP with node-postgres.
//
// A file whose first line is `-- migrate: no-transaction` runs outside a transaction, for what Postgres refuses
// inside one: `CREATE INDEX CONCURRENTLY`, which builds an index on a large table without blocking writes. Such
// a file holds one statement (Postgres runs several in one string as a single implicit transaction, where
// CONCURRENTLY is refused) and must be safe to run again (`IF NOT EXISTS`): if the runner dies after the
// statement and before recording it, the next run repeats it.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

// Any constant works; it only has to be the same for every runner of this project.
const LOCK_KEY = 0x77616d6f; // "wamo"

const NO_TRANSACTION = /^--\s*migrate:\s*no-transaction\s*$/;

/** How long a transactional migration waits for a table lock before it gives up. Every query that needs the
 * table queues behind a waiting ALTER, so a migration stuck behind a long transaction would stall the API. */
export const DEFAULT_LOCK_TIMEOUT = "10s";

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
  /** False for files marked `-- migrate: no-transaction`. */
  transaction: boolean;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const seen = new Set<string>();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`${path.join(dir, file)}: migration files are named NNNN_snake_case.sql`);
    const [, version, name] = m as unknown as [string, string, string];
    if (seen.has(version)) throw new Error(`${path.join(dir, file)}: version ${version} is used twice`);
    seen.add(version);
    const sql = await readFile(path.join(dir, file), "utf8");
    const transaction = !NO_TRANSACTION.test(sql.split("\n", 1)[0]!.trim());
    out.push({ version, name, sql, checksum: createHash("sha256").update(sql).digest("hex"), transaction });
  }
  return out;
}

/** Neon's pooled endpoint (PgBouncer in transaction mode) hands each transaction whatever server connection
 * is free, so a session advisory lock taken in one statement may be held by a connection the next statement
 * never sees. Refused by name, before any connection is made. */
export function refusePooler(databaseUrl: string): void {
  let host: string;
  try {
    host = new URL(databaseUrl).hostname;
  } catch {
    return; // not a URL: node-postgres reports what is wrong with it
  }
  if (host.includes("-pooler")) {
    throw new Error(
      `DATABASE_URL points at a connection pooler (${host}): migrations take a session advisory lock, which is ` +
        `unsafe through PgBouncer's transaction pooling. Use the direct endpoint: the same host without "-pooler" ` +
        `(${host.replace("-pooler", "")}).`,
    );
  }
}

export async function migrate(
  databaseUrl: string,
  opts: { dir?: string; log?: (line: string) => void; lockTimeout?: string } = {},
): Promise<string[]> {
  refusePooler(databaseUrl);
  const log = opts.log ?? (() => {});
  const lockTimeout = opts.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  const migrations = await loadMigrations(opts.dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  let locked = false;
  try {
    await takeLock(client);
    locked = true;
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    text PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: string; checksum: string }>(
      "SELECT version, checksum FROM schema_migrations",
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior !== undefined) {
        if (prior !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      if (m.transaction) await applyInTransaction(client, m, lockTimeout);
      else await applyAlone(client, m);
      applied.push(`${m.version}_${m.name}`);
      log(`applied ${m.version}_${m.name}${m.transaction ? "" : " (outside a transaction)"}`);
    }
  } finally {
    if (locked) await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => {});
    await client.end();
  }
  return applied;
}

// Polled rather than waited for: a runner blocked in pg_advisory_lock holds a snapshot for as long as it waits,
// and CREATE INDEX CONCURRENTLY in the runner holding the lock waits for every such snapshot to go away, so
// the two would deadlock.
async function takeLock(client: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_KEY]);
    if (rows[0]!.ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const record = (client: pg.Client, m: Migration) =>
  client.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [m.version, m.name, m.checksum]);

async function applyInTransaction(client: pg.Client, m: Migration, lockTimeout: string): Promise<void> {
  await client.query("BEGIN");
  try {
    // SET LOCAL: only this migration's statements give up on a busy table; waiting for the runners' own
    // advisory lock stays unbounded.
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [lockTimeout]);
    await client.query(m.sql);
    await record(client, m);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    const e = err as { code?: string; message: string };
    const hint = e.code === "55P03" ? ` (waited more than lock_timeout ${lockTimeout} for a lock: retry when the table is less busy)` : "";
    throw new Error(`migration ${m.version}_${m.name} failed: ${e.message}${hint}`);
  }
}

// No lock_timeout here: CREATE INDEX CONCURRENTLY waits for older transactions to finish without blocking
// anyone, and giving up half way would leave an invalid index behind.
async function applyAlone(client: pg.Client, m: Migration): Promise<void> {
  try {
    await client.query(m.sql);
  } catch (err) {
    // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would then skip.
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE NOT i.indisvalid AND c.relnamespace = 'public'::regnamespace`,
    );
    const left = rows.length
      ? `; invalid index(es) left behind: ${rows.map((r) => r.name).join(", ")} — DROP INDEX CONCURRENTLY them before retrying`
      : "";
    throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}${left}`);
  }
  await record(client, m);
}
