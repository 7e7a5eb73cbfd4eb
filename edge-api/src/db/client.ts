// One Pool per request, as Workers require: created on first use, ended after the response via waitUntil.
// Against Neon the driver runs on its defaults, which pipeline startup, a cleartext password (inside TLS) and
// the first query into one round trip. Locally it keeps those settings, bar what has no local counterpart: it
// reaches Postgres through the WebSocket↔TCP proxy, without TLS, and pipelines the password only if the local
// server asks for one (tools/pg-auth.ts explains why the local stack does, as Neon does).
import { Client, Pool, type NeonConfig, type PoolClient } from "@neondatabase/serverless";
import type { Config } from "../env.ts";
import { ApiError, logError } from "../errors.ts";

export interface Queryable {
  query<R extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  /** Runs fn in a transaction, retrying the whole of it on deadlock or serialization failure. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

type LocalSettings = Pick<NeonConfig, "wsProxy" | "useSecureWebSocket" | "pipelineTLS" | "pipelineConnect">;

export function localDriverSettings(cfg: Config): LocalSettings | undefined {
  const proxy = cfg.NEON_LOCAL_PROXY;
  if (!proxy) return undefined;
  return {
    wsProxy: (host, port) => `${proxy}/v1?address=${host}:${port}`,
    useSecureWebSocket: false,
    pipelineTLS: false,
    pipelineConnect: (cfg.NEON_LOCAL_AUTH ?? "password") === "password" ? "password" : false,
  };
}

// Per connection rather than on the global neonConfig, so configurations side by side in one process (tests, the
// benchmark comparing SCRAM with password) never see each other's settings.
function localClient(settings: LocalSettings): typeof Client {
  return class LocalClient extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config);
      Object.assign(this.neonConfig, settings);
    }
  };
}

const RETRYABLE = new Set(["40001", "40P01"]);
// SQLSTATEs that mean "the database is not there right now", not "your query is wrong".
const UNAVAILABLE = /^(08|57P0|53)/;

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (code) return UNAVAILABLE.test(code);
  // Socket-level failures from the driver carry no SQLSTATE.
  const msg = err instanceof Error ? err.message : String(err);
  return /connect|socket|websocket|ECONNREFUSED|terminated|timeout/i.test(msg);
}

// The driver's message can name hosts, users and databases: it goes to the log, never to the client.
function unavailable(err: unknown): ApiError {
  logError("database unavailable", { error: err instanceof Error ? err.message : String(err), sqlstate: sqlState(err) });
  return new ApiError("db_unavailable", "the database is unavailable; retry later");
}

export function openDb(cfg: Config): Db {
  const local = localDriverSettings(cfg);
  let pool: Pool | undefined;
  const getPool = () => {
    if (pool) return pool;
    pool = new Pool({ connectionString: cfg.DATABASE_URL, max: 1, connectionTimeoutMillis: 10_000 });
    if (local) pool.Client = localClient(local);
    // A connection that breaks while idle (the database restarting, the socket dropped while the pool ends)
    // is reported as an 'error' event; without a listener that event would throw out of the Worker.
    pool.on("error", (err: Error) => logError("idle database connection failed", { error: err.message }));
    return pool;
  };

  const run = async <R extends Record<string, unknown>>(
    client: Pool | PoolClient,
    text: string,
    params?: unknown[],
  ): Promise<R[]> => {
    try {
      const res = await client.query(text, params);
      return res.rows as R[];
    } catch (err) {
      throw isUnavailable(err) ? unavailable(err) : err;
    }
  };

  return {
    query: (text, params) => run(getPool(), text, params),
    async tx(fn) {
      for (let attempt = 1; ; attempt++) {
        let client: PoolClient;
        try {
          client = await getPool().connect();
        } catch (err) {
          throw unavailable(err);
        }
        // A pipelined login hands the client out before the server has accepted it, so a refusal (or a proxy
        // hanging up) arrives as an 'error' event on the checked-out client, besides failing its statement.
        // Unlistened, that event would throw out of the Worker; the failed statement already reports it.
        const failedStatementReportsIt = () => {};
        client.on("error", failedStatementReportsIt);
        const release = () => {
          client.removeListener("error", failedStatementReportsIt);
          client.release();
        };
        const q: Queryable = { query: (text, params) => run(client, text, params) };
        try {
          await client.query("BEGIN");
          const out = await fn(q);
          await client.query("COMMIT");
          release();
          return out;
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          release();
          if (RETRYABLE.has(sqlState(err) ?? "") && attempt < 4) continue;
          throw isUnavailable(err) ? unavailable(err) : err;
        }
      }
    },
    async end() {
      if (pool) await pool.end().catch(() => {});
    },
  };
}

export { sqlState };
