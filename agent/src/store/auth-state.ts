// Baileys authentication state in SQLite instead of useMultiFileAuthState (demo-only by its own docs):
// one creds row per session and a keys table, values serialised with Baileys' BufferJSON, every keys.set one
// transaction (null deletes), wrapped in makeCacheableSignalKeyStore.
import {
  BufferJSON,
  initAuthCreds,
  makeCacheableSignalKeyStore,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from "baileys";
import type { Logger } from "pino";
import type { Db } from "./db.ts";

const encode = (v: unknown) => JSON.stringify(v, BufferJSON.replacer);
const decode = (s: string) => JSON.parse(s, BufferJSON.reviver);

/** The raw SQL key store, before caching; exported for tests. */
export function sqlKeyStore(db: Db, session: string): SignalKeyStore {
  const select = db.prepare<[string, string, string], { value: string }>(
    "SELECT value FROM wa_keys WHERE session = ? AND type = ? AND id = ?",
  );
  const upsert = db.prepare(
    "INSERT INTO wa_keys (session, type, id, value) VALUES (?, ?, ?, ?) ON CONFLICT (session, type, id) DO UPDATE SET value = excluded.value",
  );
  const remove = db.prepare("DELETE FROM wa_keys WHERE session = ? AND type = ? AND id = ?");
  const setAll = db.transaction((data: SignalDataSet) => {
    for (const [type, entries] of Object.entries(data)) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        if (value === null || value === undefined) remove.run(session, type, id);
        else upsert.run(session, type, id, encode(value));
      }
    }
  });
  return {
    get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const row = select.get(session, type, id);
        if (!row) continue;
        let value = decode(row.value);
        // Baileys expects the protobuf type back, not the plain object it was serialised from.
        if (type === "app-state-sync-key") value = proto.Message.AppStateSyncKeyData.fromObject(value);
        out[id] = value;
      }
      return out;
    },
    set: async (data: SignalDataSet) => {
      setAll(data);
    },
    clear: async () => {
      db.prepare("DELETE FROM wa_keys WHERE session = ?").run(session);
    },
  };
}

export interface SqlAuthState {
  state: AuthenticationState;
  saveCreds(): void;
  /** True once the session has been paired with a phone. */
  registered(): boolean;
}

export function useSqlAuthState(db: Db, session: string, logger?: Logger): SqlAuthState {
  const row = db.prepare<[string], { creds: string }>("SELECT creds FROM wa_creds WHERE session = ?").get(session);
  const creds: AuthenticationCreds = row ? decode(row.creds) : initAuthCreds();
  const saveStmt = db.prepare(
    "INSERT INTO wa_creds (session, creds) VALUES (?, ?) ON CONFLICT (session) DO UPDATE SET creds = excluded.creds",
  );
  return {
    state: { creds, keys: makeCacheableSignalKeyStore(sqlKeyStore(db, session), logger as never) },
    saveCreds: () => void saveStmt.run(session, encode(creds)),
    registered: () => Boolean(creds.registered || creds.me?.id),
  };
}

/** Logged out: the pairing is gone for good, so are its keys. */
export function wipeAuthState(db: Db, session: string): void {
  db.transaction(() => {
    db.prepare("DELETE FROM wa_creds WHERE session = ?").run(session);
    db.prepare("DELETE FROM wa_keys WHERE session = ?").run(session);
  })();
}

export function storedCreds(db: Db, session: string): AuthenticationCreds | undefined {
  const row = db.prepare<[string], { creds: string }>("SELECT creds FROM wa_creds WHERE session = ?").get(session);
  return row ? decode(row.creds) : undefined;
}
