// Online backup of the store (messages, outbox and WhatsApp sessions) while the agent keeps running, with
// SQLite's backup API. Restore: stop the agent, copy the file to DATA_DIR/agent.sqlite, start it.
import path from "node:path";
import Database from "better-sqlite3";

export async function backupStore(dataDir: string, target: string): Promise<number> {
  const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const { totalPages } = await db.backup(target);
    return totalPages;
  } finally {
    db.close();
  }
}
