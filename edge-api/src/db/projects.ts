import type { ProjectInput } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

// Keyed on the group JID: a project may be renamed, its WhatsApp group is what it is.
const UPSERT_PROJECTS = /* sql */ `
  INSERT INTO projects AS p (name, group_jid, enabled, description)
  SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[])
  ON CONFLICT (group_jid) DO UPDATE SET
    name        = excluded.name,
    enabled     = excluded.enabled,
    description = excluded.description,
    updated_at  = now()
  WHERE (p.name, p.enabled, p.description) IS DISTINCT FROM (excluded.name, excluded.enabled, excluded.description)
  RETURNING p.id`;

export async function upsertProjects(db: Queryable, projects: ProjectInput[]): Promise<number> {
  const rows = await db.query(UPSERT_PROJECTS, [
    projects.map((p) => p.name),
    projects.map((p) => p.groupJid),
    projects.map((p) => p.enabled),
    projects.map((p) => p.description),
  ]);
  return rows.length;
}

const LIST = /* sql */ `
  SELECT name, group_jid, enabled, description FROM projects ORDER BY name, group_jid`;

export async function listProjects(db: Queryable) {
  const rows = await db.query(LIST);
  return rows.map((r) => ({
    name: String(r.name),
    groupJid: String(r.group_jid),
    enabled: r.enabled === true,
    description: String(r.description),
  }));
}
