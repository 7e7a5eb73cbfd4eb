// The agent's one SQLite file (WAL): monitored messages, the delivery outbox, WhatsApp auth state, the
// LID↔phone map, and the groups' images (records and bytes). Baileys' session state lives in its own tables, apart from the app's data.
import { existsSync, mkdirSync } from "node:fs";
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
  /* sql */ `
  -- Feedback sends, keyed by the edge's feedback id alone (keyed by edge URL too, a changed EDGE_URL lost them).
  -- The intent is written before the send, with the WhatsApp message id the send will use, so a send interrupted
  -- by a crash is repeated with the same id when the edge hands the message out again: WhatsApp takes it as the
  -- same message, and the group sees it once.
  CREATE TABLE feedback_sends (
    id            TEXT PRIMARY KEY,   -- the edge's feedback id
    chat_jid      TEXT NOT NULL,
    drop_number   TEXT,               -- NULL for rows recorded before this table existed
    session       TEXT NOT NULL,
    fallback      INTEGER NOT NULL,
    wa_message_id TEXT NOT NULL,
    intended_at   INTEGER NOT NULL,
    sent_at       INTEGER,            -- NULL: intent recorded, send not confirmed
    acked_at      INTEGER,
    ack_error     TEXT
  );
  -- Rows of the old table are all confirmed sends; for an id recorded under several edge URLs, the latest wins.
  INSERT OR IGNORE INTO feedback_sends (id, chat_jid, session, fallback, wa_message_id, intended_at, sent_at, acked_at, ack_error)
    SELECT id, chat_jid, session, fallback, wa_message_id, sent_at, sent_at, acked_at, ack_error
    FROM feedback_sent ORDER BY sent_at DESC;
  DROP TABLE feedback_sent;
  CREATE INDEX feedback_sends_unacked ON feedback_sends (sent_at) WHERE sent_at IS NOT NULL AND acked_at IS NULL;

  -- Rows the edge or the contract refused, counted in /health and /metrics until someone requeues them.
  CREATE INDEX outbox_rejected ON outbox (id) WHERE result = 'rejected';

  -- The simulator, like WhatsApp, posts a message id only once per chat.
  CREATE INDEX sim_sent_by_message ON sim_sent (chat_jid, wa_message_id);
  `,
  /* sql */ `
  -- Messages as a rowid table with one unique index. WITHOUT ROWID suits small rows; a message row is ~1 KB and
  -- message ids are random, so every insert landed mid-tree, moving whole rows, and a second random-order index
  -- (messages_by_id) was written beside it. Now rows append in arrival order and the one index serves both the
  -- dedupe (ON CONFLICT) and getMessage's look-up by chat and id.
  --
  -- content: the message's content in WhatsApp's own protobuf encoding, as Baileys decrypted it (a tenth of the
  -- cost of BufferJSON text to write, half the size, and what getMessage must hand back); raw then holds the
  -- rest of the WAMessage (key, time, push name). NULL: raw holds the whole message, as in rows copied here.
  CREATE TABLE messages_v4 (
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
    raw          TEXT NOT NULL,      -- BufferJSON: the WAMessage without its content, or all of it (content NULL)
    content      BLOB,               -- proto.Message bytes
    stored_at    INTEGER NOT NULL,
    UNIQUE (chat_jid, message_id, session)
  );
  INSERT INTO messages_v4 (session, chat_jid, message_id, sender_jid, sender_phone, sender_name, from_me, own, text,
                           edit_of, sent_at, upsert_type, raw, content, stored_at)
    SELECT session, chat_jid, message_id, sender_jid, sender_phone, sender_name, from_me, own, text,
           edit_of, sent_at, upsert_type, raw, NULL, stored_at
    FROM messages ORDER BY stored_at;
  DROP TABLE messages;
  ALTER TABLE messages_v4 RENAME TO messages;
  `,
  /* sql */ `
  -- "Session" is the one word for a WhatsApp number (the edge's contract said "bridge" as well). A rename only
  -- rewrites the table's definition, not its rows.
  ALTER TABLE outbox RENAME COLUMN bridge TO session;
  `,
  /* sql */ `
  -- Images of monitored groups (issue 10). One record per WhatsApp message, whichever session saw it first: written
  -- in the same transaction as the message, with what Baileys needs to download it later (media key, where it
  -- is, WhatsApp's hashes) and WhatsApp's embedded thumbnail. The download loop moves it out of pending_download.
  CREATE TABLE media (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- upload order for the edge (phase B)
    chat_jid        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    session         TEXT NOT NULL,      -- the session that stored it first
    kind            TEXT NOT NULL CHECK (kind IN ('image', 'document')),
    sender_jid      TEXT,
    sender_phone    TEXT,
    sender_name     TEXT,
    from_me         INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL,   -- ms since epoch
    caption         TEXT,
    quoted_id       TEXT,               -- the message this one replies to (contextInfo.stanzaId)
    mimetype        TEXT,               -- as WhatsApp declared it, lower case, without parameters
    file_name       TEXT,               -- documents only
    file_length     INTEGER,            -- as declared: the size check before downloading
    width           INTEGER,
    height          INTEGER,
    file_sha256     BLOB,               -- WhatsApp's SHA-256 of the plain bytes: verified after download
    file_enc_sha256 BLOB,
    media_key       BLOB,
    media_key_ts    INTEGER,
    url             TEXT,               -- updated when the sender's phone re-uploads expired media
    direct_path     TEXT,
    thumbnail       BLOB,               -- WhatsApp's jpegThumbnail
    state           TEXT NOT NULL CHECK (state IN ('pending_download', 'downloaded', 'too_large', 'unsupported', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sha256          TEXT,               -- hex SHA-256 of the bytes in media_blobs
    size            INTEGER,            -- bytes stored
    stored_at       INTEGER,            -- when the bytes were stored
    created_at      INTEGER NOT NULL,
    uploaded_at     INTEGER,            -- set by the upload to the edge; bytes stay until then, whatever their age
    UNIQUE (chat_jid, message_id)
  );
  CREATE INDEX media_due ON media (next_attempt_at) WHERE state = 'pending_download';
  CREATE INDEX media_by_state ON media (state);
  CREATE INDEX media_by_sha256 ON media (sha256) WHERE sha256 IS NOT NULL;

  -- The bytes, once per content: two messages with the same photo share a row. In this file rather than beside
  -- it, so that the bytes and the record saying they are here commit together, a crash leaves no half-written or
  -- orphaned file, and one online backup holds everything.
  CREATE TABLE media_blobs (
    sha256    TEXT PRIMARY KEY,         -- hex
    size      INTEGER NOT NULL,         -- before the bytes, so counting sizes does not read them
    stored_at INTEGER NOT NULL,
    bytes     BLOB NOT NULL
  );

  -- The simulator's stand-in for WhatsApp's media servers: encrypted files by path, as Baileys uploaded them.
  CREATE TABLE sim_media (
    path            TEXT PRIMARY KEY,
    chat_jid        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    content         BLOB NOT NULL,      -- proto.Message bytes of the media message as first built
    enc             BLOB NOT NULL,      -- what the host serves
    gone            INTEGER NOT NULL DEFAULT 0,  -- 1: answers 410 (expired) until re-uploaded to a new path
    requests        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
  );
  CREATE INDEX sim_media_by_message ON sim_media (chat_jid, message_id);
  `,
  /* sql */ `
  -- The upload of image records (and their bytes) to the edge: a record waits from the moment its download is
  -- over (whatever became of it) until uploaded_at. A record the edge cannot take yet (a group it does not know, a
  -- refusal) is retried at upload_next_at; upload_error says why it is waiting.
  ALTER TABLE media ADD COLUMN upload_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE media ADD COLUMN upload_next_at INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE media ADD COLUMN upload_error TEXT;
  ALTER TABLE media ADD COLUMN upload_result TEXT;    -- new | updated | duplicate, as the edge answered
  CREATE INDEX media_upload_pending ON media (id) WHERE uploaded_at IS NULL AND state <> 'pending_download';
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
  // Message ids are random, so each stored message dirties an index page of its own; checkpointing every 40 MB of
  // WAL rather than every 4 MB copies a page rewritten by many commits to the database once, not once per 4 MB.
  db.pragma("wal_autocheckpoint = 10000");
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

/** Brings the store's schema up to `version` (all of SCHEMA by default; tests stop earlier to build old stores). */
export function migrateStore(db: Db, version = SCHEMA.length): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < version; v++) {
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
