// Agents' WhatsApp sessions as last reported by their heartbeats, and which of them went quiet.
import type { HeartbeatRequest, SessionRole, SessionState, SessionView } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

const UPSERT = /* sql */ `
  INSERT INTO sessions AS x (agent, session, role, state, phone, last_event_at, last_heartbeat_at, stale)
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
  SELECT x.agent, x.session, x.role, x.state, x.phone, x.last_heartbeat_at, x.last_event_at, x.stale,
         (SELECT max(s.received_at) FROM submissions s WHERE s.session = x.session) AS last_message_at
  FROM sessions x
  ORDER BY x.agent, x.session`;

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

export async function listSessions(db: Queryable): Promise<SessionView[]> {
  const rows = await db.query(LIST);
  return rows.map((r) => ({
    agent: String(r.agent),
    session: String(r.session),
    // Stored from heartbeats, which the contract validated.
    role: r.role as SessionRole,
    state: r.state as SessionState,
    phone: r.phone == null ? null : String(r.phone),
    lastHeartbeatAt: iso(r.last_heartbeat_at)!,
    lastEventAt: iso(r.last_event_at),
    lastMessageAt: iso(r.last_message_at),
    stale: r.stale === true,
  }));
}

const MARK_STALE = /* sql */ `
  UPDATE sessions SET stale = true
  WHERE NOT stale AND last_heartbeat_at < $1::timestamptz - make_interval(secs => $2)
  RETURNING agent, session`;

/** Cron: flags the sessions whose agent has sent no heartbeat for `staleSeconds`; returns how many it flagged. */
export async function markStaleSessions(db: Queryable, now: Date, staleSeconds: number): Promise<number> {
  return (await db.query(MARK_STALE, [now, staleSeconds])).length;
}
