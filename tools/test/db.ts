import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { ensureDatabase } from "../postgres.ts";

export const TEMPLATE_DB = "wam_template";

/** A new database cloned from the migrated template; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const { adminUrl } = inject("pg");
  const name = `t_${randomBytes(6).toString("hex")}`;
  await ensureDatabase(adminUrl, name, TEMPLATE_DB);
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

/** A plain TCP client for arranging and inspecting state around the code under test. */
export async function sqlClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** One query on its own connection: for arranging and inspecting state in tests. */
export async function query<T = any>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = await sqlClient(url);
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
