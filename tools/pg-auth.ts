// How local connections log in to Postgres, and why it is `password` by default.
//
// Neon's endpoint authenticates WebSocket clients with a cleartext password, sent inside TLS. Because the
// server's answer to the startup message is known in advance, @neondatabase/serverless pipelines startup,
// password and the first query into one round trip (`pipelineConnect: "password"`, its default). A Worker opens
// a connection per request, so that is the connection cost production pays.
//
// A stock Postgres asks for SCRAM-SHA-256 instead: two more round trips and a PBKDF2 of 4096 HMACs that the
// driver computes as awaited WebCrypto calls — tens of milliseconds per request that Neon never charges, and
// which hid the real cost of every local request. So the embedded cluster authenticates loopback TCP
// connections (the proxy's, and nothing else can reach it) with the `password` method — the same message
// exchange Neon has, minus the TLS that loopback does not need — and the Worker's driver keeps its production
// settings. The stored password stays a SCRAM verifier, which the `password` method checks just as well, so
// `PG_AUTH=scram-sha-256` switches an existing cluster back and forth at its next start (to compare both).
import { writeFile, chown } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

export const PG_AUTH_METHODS = ["password", "scram-sha-256"] as const;
export type PgAuth = (typeof PG_AUTH_METHODS)[number];

/** PG_AUTH from the environment: `password` (as Neon; the default) or `scram-sha-256`. */
export function pgAuthFromEnv(env: NodeJS.ProcessEnv = process.env): PgAuth {
  const raw = env.PG_AUTH;
  if (raw === undefined || raw === "") return "password";
  if ((PG_AUTH_METHODS as readonly string[]).includes(raw)) return raw as PgAuth;
  throw new Error(`PG_AUTH=${raw}: use ${PG_AUTH_METHODS.join(" or ")}`);
}

/** The whole pg_hba.conf of the embedded cluster: loopback TCP with `auth`, the Unix socket with SCRAM. */
export function hbaConfig(auth: PgAuth): string {
  return [
    "# Written by tools/postgres.ts at every start (PG_AUTH, see tools/pg-auth.ts); edits are overwritten.",
    "# TYPE  DATABASE  USER  ADDRESS        METHOD",
    "local   all       all                  scram-sha-256",
    `host    all       all   127.0.0.1/32   ${auth}`,
    `host    all       all   ::1/128        ${auth}`,
    "",
  ].join("\n");
}

export async function writeHba(clusterDir: string, auth: PgAuth, owner: { uid?: number; gid?: number } = {}): Promise<void> {
  const file = path.join(clusterDir, "pg_hba.conf");
  await writeFile(file, hbaConfig(auth), { mode: 0o600 });
  if (owner.uid !== undefined) await chown(file, owner.uid, owner.gid!);
}

/** What the Worker's driver needs to know about the server: only `password` may be pipelined. */
export type ServerAuth = "password" | "scram-sha-256" | "md5" | "trust";

const AUTH_CODES: Record<number, ServerAuth> = { 0: "trust", 3: "password", 5: "md5", 10: "scram-sha-256" };

/**
 * Asks the server how it would authenticate a TCP connection to `url` (a Postgres that is not the embedded one,
 * so its pg_hba.conf is not ours): sends a startup message and reads the first answer, then hangs up — Postgres
 * does not log a client that leaves at the password prompt.
 */
export function serverAuthMethod(url: string, timeoutMs = 5000): Promise<ServerAuth> {
  const u = new URL(url);
  const params = { user: decodeURIComponent(u.username) || "postgres", database: decodeURIComponent(u.pathname.slice(1)) || "postgres" };
  const body = Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join("") + "\0");
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + body.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port || 5432), u.hostname);
    let got = Buffer.alloc(0);
    const done = (err: Error | null, method?: ServerAuth) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(method!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`${u.host}: no answer to the startup message in ${timeoutMs} ms`)));
    socket.on("error", (e) => done(new Error(`${u.host}: ${e.message}`)));
    socket.on("connect", () => socket.write(Buffer.concat([startup, body])));
    socket.on("data", (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 9) return;
      const type = String.fromCharCode(got[0]!);
      if (type === "R") {
        const code = got.readInt32BE(5);
        const method = AUTH_CODES[code];
        done(method ? null : new Error(`${u.host} asks for authentication method ${code}, which the Neon driver does not speak`), method);
      } else if (type === "E") {
        const length = got.readInt32BE(1);
        if (got.length < 1 + length) return;
        // Fields are a type byte and a NUL-terminated string each; M is the message.
        const fields = got.subarray(5, 1 + length).toString().split("\0");
        const message = fields.find((f) => f.startsWith("M"))?.slice(1) ?? "error";
        done(new Error(`${u.host} refused the connection: ${message}`));
      } else {
        done(new Error(`${u.host} answered the startup message with '${type}': not Postgres?`));
      }
    });
  });
}
