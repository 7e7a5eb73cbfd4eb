// Agents' WhatsApp sessions as last reported by their heartbeats.
import type { HeartbeatRequest } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

const UPSERT = /* sql */ `
  INSERT INTO bridges AS b (agent, session, role, state, phone, last_event_at, last_heartbeat_at, stale)
  SELECT $1::text, u.*, $7::timestamptz, false
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u
  ON CONFLICT (agent, session) DO UPDATE SET
    role = excluded.role, state = excluded.state, phone = excluded.phone, last_event_at = excluded.last_event_at,
    last_heartbeat_at = excluded.last_heartbeat_at, stale = false`;

export async function recordHeartbeat(db: Queryable, hb: HeartbeatRequest, now: Date): Promise<void> {
  if (!hb.sessions.length) return;
  await db.query(UPSERT, [
    hb.agent,
    hb.sessions.map((s) => s.name),
    hb.sessions.map((s) => s.role),
    hb.sessions.map((s) => s.state),
    hb.sessions.map((s) => s.phone),
    hb.sessions.map((s) => s.lastEventAt),
    now,
  ]);
}

const LIST = /* sql */ `
  SELECT b.agent, b.session, b.role, b.state, b.phone, b.last_heartbeat_at, b.last_event_at, b.stale,
         (SELECT max(s.received_at) FROM submissions s WHERE s.bridge = b.session) AS last_message_at
  FROM bridges b
  ORDER BY b.agent, b.session`;

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

export async function listBridges(db: Queryable) {
  const rows = await db.query(LIST);
  return rows.map((r) => ({
    agent: String(r.agent),
    session: String(r.session),
    role: String(r.role),
    state: String(r.state),
    phone: r.phone == null ? null : String(r.phone),
    lastHeartbeatAt: iso(r.last_heartbeat_at)!,
    lastEventAt: iso(r.last_event_at),
    lastMessageAt: iso(r.last_message_at),
    stale: r.stale === true,
  }));
}
