import { mkdtemp, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_LOCK_TIMEOUT, loadMigrations, migrate, MIGRATIONS_DIR } from "../migrate.ts";
import { ensureDatabase } from "../postgres.ts";
import { inject } from "vitest";
import { query, sqlClient } from "./db.ts";
import { randomBytes } from "node:crypto";

async function emptyDatabase(): Promise<string> {
  const { adminUrl } = inject("pg");
  const name = `m_${randomBytes(6).toString("hex")}`;
  await ensureDatabase(adminUrl, name);
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

async function tables(url: string): Promise<string[]> {
  const c = await sqlClient(url);
  const { rows } = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  await c.end();
  return rows.map((r) => r.tablename);
}

/** The project's migrations plus extra files, in a directory of their own. */
async function withExtra(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "wam-mig-"));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects if p has not settled within ms: a runner that blocks forever fails the test instead of hanging it. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`still waiting after ${ms} ms`)))]);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("migrate", () => {
  it("applies every migration once and records it", async () => {
    const url = await emptyDatabase();
    const all = (await loadMigrations()).map((m) => `${m.version}_${m.name}`);
    expect(await migrate(url)).toEqual(all);
    expect(await migrate(url)).toEqual([]);
    expect(await tables(url)).toEqual(expect.arrayContaining(["drops", "projects", "schema_migrations", "submissions"]));
  });

  it("lets concurrent runners race without applying anything twice", async () => {
    const url = await emptyDatabase();
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(url)));
    const total = (await loadMigrations()).length;
    expect(results.flat()).toHaveLength(total);
  });

  it("rolls back a failing migration and reports it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "wam-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await writeFile(path.join(dir, "9998_good.sql"), "CREATE TABLE fine (id int);");
    await writeFile(path.join(dir, "9999_broken.sql"), "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;");
    const url = await emptyDatabase();
    await expect(migrate(url, { dir })).rejects.toThrow(/9999_broken failed: .*no_such_table/);
    const t = await tables(url);
    expect(t).toContain("fine");
    expect(t).not.toContain("half");
  });

  it("refuses a migration that changed after it was applied", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "wam-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const url = await emptyDatabase();
    await migrate(url, { dir });
    await writeFile(path.join(dir, "0001_init.sql"), "-- edited\n", { flag: "a" });
    await expect(migrate(url, { dir })).rejects.toThrow(/0001_init was changed/);
  });

  it("rejects badly named files", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "wam-mig-"));
    await writeFile(path.join(dir, "1_Init.sql"), "SELECT 1");
    await expect(loadMigrations(dir)).rejects.toThrow(/NNNN_snake_case/);
  });

  it("refuses Neon's pooler endpoint before connecting, and names the direct one", async () => {
    const pooled = "postgres://owner:s3cret-pw@ep-cool-dawn-a1b2c3d4-pooler.eu-central-1.aws.neon.tech/app?sslmode=require";
    const err = await migrate(pooled).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/connection pooler/);
    expect(err?.message).toContain("ep-cool-dawn-a1b2c3d4.eu-central-1.aws.neon.tech");
    expect(err?.message).not.toContain("s3cret-pw");
  });

  it("runs migrations with a lock_timeout", async () => {
    const dir = await withExtra({
      "9999_check_timeout.sql": `DO $$ BEGIN
        IF current_setting('lock_timeout') <> '${DEFAULT_LOCK_TIMEOUT}' THEN
          RAISE EXCEPTION 'lock_timeout is %', current_setting('lock_timeout');
        END IF;
      END $$;`,
    });
    expect(await migrate(await emptyDatabase(), { dir })).toContain("9999_check_timeout");
  });

  it("gives up on a table a long transaction holds instead of queueing every query behind it", async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const dir = await withExtra({ "9999_alter_busy.sql": "ALTER TABLE drops ADD COLUMN note text;" });
    const reader = await sqlClient(url);
    try {
      await reader.query("BEGIN");
      await reader.query("SELECT count(*) FROM drops"); // holds ACCESS SHARE until it ends
      await expect(within(5000, migrate(url, { dir, lockTimeout: "300ms" }))).rejects.toThrow(
        /9999_alter_busy failed: .*lock timeout.*waited more than lock_timeout 300ms/,
      );
    } finally {
      await reader.query("ROLLBACK");
      await reader.end();
    }
    const note = "SELECT 1 FROM information_schema.columns WHERE table_name = 'drops' AND column_name = 'note'";
    expect(await query(url, note)).toEqual([]);
    // Once the table is free the same migration goes through.
    expect(await migrate(url, { dir, lockTimeout: "300ms" })).toEqual(["9999_alter_busy"]);
  });

  it("runs a `-- migrate: no-transaction` file outside a transaction, so an index can be built CONCURRENTLY", async () => {
    const dir = await withExtra({
      "9999_concurrent_index.sql":
        "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS drops_updated_idx ON drops (updated_at);\n",
    });
    const url = await emptyDatabase();
    expect(await migrate(url, { dir })).toContain("9999_concurrent_index");
    const c = await sqlClient(url);
    const { rows } = await c.query(
      "SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'drops_updated_idx'",
    );
    const { rows: recorded } = await c.query("SELECT version FROM schema_migrations WHERE version = '9999'");
    await c.end();
    expect(rows).toEqual([{ valid: true }]);
    expect(recorded).toEqual([{ version: "9999" }]);
    expect(await migrate(url, { dir })).toEqual([]);
  });

  it("reports the invalid index a failed concurrent build leaves behind, and records nothing", async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const c = await sqlClient(url);
    await c.query("INSERT INTO projects (name, group_jid) VALUES ('A', '1@g.us'), ('B', '2@g.us')");
    const dir = await withExtra({
      "9999_unique_enabled.sql":
        "-- migrate: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS projects_enabled_key ON projects (enabled);\n",
    });
    await expect(migrate(url, { dir })).rejects.toThrow(/9999_unique_enabled failed: .*invalid index\(es\) left behind: projects_enabled_key/);
    const { rows } = await c.query("SELECT version FROM schema_migrations WHERE version = '9999'");
    await c.end();
    expect(rows).toEqual([]);
  });

  it("a runner waiting for the lock does not deadlock the one building an index concurrently", async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const dir = await withExtra({
      "9999_concurrent_index.sql":
        "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS drops_updated_idx ON drops (updated_at);\n",
    });
    // A writer with a transaction id keeps the build waiting long enough for a second runner to queue up.
    const writer = await sqlClient(url);
    await writer.query("BEGIN");
    await writer.query("LOCK TABLE drops IN ROW EXCLUSIVE MODE");
    await writer.query("INSERT INTO projects (name, group_jid) VALUES ('W', '9@g.us')");
    const building = migrate(url, { dir });
    const watch = await sqlClient(url);
    const waitingOn = async (pattern: string) =>
      (await watch.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE $1 AND wait_event_type IS NOT NULL", [pattern]))
        .rowCount! > 0;
    await until(() => waitingOn("%CREATE INDEX CONCURRENTLY%"), "the concurrent build to wait for the writer");
    const second = migrate(url, { dir });
    await sleep(500); // the second runner is now waiting for the migration lock
    await writer.query("COMMIT");
    await writer.end();
    try {
      expect(await within(20_000, Promise.all([building, second]))).toEqual([["9999_concurrent_index"], []]);
    } finally {
      await watch.end();
    }
  });
});
