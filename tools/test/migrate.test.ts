import { mkdtemp, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMigrations, migrate, MIGRATIONS_DIR } from "../migrate.ts";
import { ensureDatabase } from "../postgres.ts";
import { inject } from "vitest";
import { sqlClient } from "./db.ts";
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
});
