// The agent's one SQLite file (WAL): monitored messages, the delivery outbox, WhatsApp auth state and the
// LID↔phone map. Baileys' session state lives in its own tables, apart from the app's data.
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export type Db = Database.Database;

// Append-only: each entry upgrades user_version N-1 → N.
const SCHEMA: string[] = [
  /* sql */ `
  CREATE TABLE messages (
    session      TEXT NOT NULL,
    chat_jid     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    sender_jid   TEXT,
    sender_phone TEXT,
    sender_name  TEXT,
    from_me      INTEGER NOT NULL,
    own          INTEGER NOT NULL,   -- sent by any of this agent's sessions
    text         TEXT,
    edit_of      TEXT,               -- id of the message this one edits
    sent_at      INTEGER NOT NULL,   -- ms since epoch
    upsert_type  TEXT NOT NULL,      -- notify | append | history
    raw          TEXT NOT NULL,      -- the WAMessage, BufferJSON-encoded
    stored_at    INTEGER NOT NULL,
    PRIMARY KEY (session, chat_jid, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX messages_by_id ON messages (chat_jid, message_id);

  CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_jid     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    drop_number  TEXT NOT NULL,
    bridge       TEXT NOT NULL,
    sender_jid   TEXT NOT NULL,
    sender_phone TEXT,
    sender_name  TEXT,
    text         TEXT NOT NULL,
    sent_at      TEXT NOT NULL,      -- ISO 8601
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_at INTEGER,
    result       TEXT,               -- new | resubmission | duplicate | unknown_group | rejected
    -- The backup number seeing the same message adds nothing here; the edge dedupes again anyway.
    UNIQUE (chat_jid, message_id, drop_number)
  );
  CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

  CREATE TABLE wa_creds (
    session TEXT PRIMARY KEY,
    creds   TEXT NOT NULL
  );
  CREATE TABLE wa_keys (
    session TEXT NOT NULL,
    type    TEXT NOT NULL,
    id      TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (session, type, id)
  ) WITHOUT ROWID;

  CREATE TABLE lid_map (
    lid        TEXT PRIMARY KEY,
    pn         TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE sim_sent (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session       TEXT NOT NULL,
    chat_jid      TEXT NOT NULL,
    text          TEXT NOT NULL,
    mentions      TEXT NOT NULL,
    wa_message_id TEXT NOT NULL,
    sent_at       INTEGER NOT NULL
  );
  `,
  /* sql */ `
  -- Feedback the edge handed us: what we sent for it, and whether the edge has our ack. If the edge hands the
  -- same message out again (its lease ran out before our ack arrived), we ack again instead of sending twice.
  CREATE TABLE feedback_sent (
    edge          TEXT NOT NULL,      -- the edge's URL: ids are only unique per edge database
    id            TEXT NOT NULL,      -- the edge's feedback id
    chat_jid      TEXT NOT NULL,
    session       TEXT NOT NULL,
    fallback      INTEGER NOT NULL,
    wa_message_id TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    acked_at      INTEGER,
    ack_error     TEXT,
    PRIMARY KEY (edge, id)
  );
  CREATE INDEX feedback_unacked ON feedback_sent (sent_at) WHERE acked_at IS NULL;
  `,
];

export function openStore(dataDir: string, file = "agent.sqlite"): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, file));
  db.pragma("journal_mode = WAL");
  // NORMAL in WAL mode is durable across process crashes (only an OS crash can lose the last commits).
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  migrateStore(db);
  return db;
}

/** An existing store, for one-off commands while the agent may be running: no migration, and up to 5 s of waiting
 * for the agent's writes (WAL lets readers and one writer work side by side). */
export function openExistingStore(dataDir: string, file = "agent.sqlite"): Db {
  const target = path.join(dataDir, file);
  if (!existsSync(target)) throw new Error(`no agent store at ${path.resolve(target)} (is DATA_DIR right?)`);
  const db = new Database(target, { fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  return db;
}

function migrateStore(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < SCHEMA.length; v++) {
    db.transaction(() => {
      db.exec(SCHEMA[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function closeStore(db: Db): void {
  if (!db.open) return;
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}
