// Benchmark 0: what every Worker request pays before its SQL runs. The Worker opens a Neon connection per
// request (WebSocket, startup, SCRAM-SHA-256); the driver computes the SCRAM proof as one awaited WebCrypto
// HMAC per PBKDF2 iteration, which in Node costs far more than the queries themselves — so it is measured
// on its own, next to a plain TCP connection for scale.
import { DASHBOARD_TOKEN, sqlClient, type WorkerCall } from "./rig.ts";
import { heading, LATENCY_HEADERS, latencyRow, line, sample, table } from "./measure.ts";

// Postgres' default scram_iterations, which the embedded cluster's password was hashed with.
const SCRAM_ITERATIONS = 4096;

/** PBKDF2-HMAC-SHA-256 the way @neondatabase/serverless computes the SCRAM client proof. */
async function driverStylePbkdf2(iterations: number): Promise<void> {
  const { subtle } = globalThis.crypto;
  const key = await subtle.importKey("raw", new TextEncoder().encode("password"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  let u = new Uint8Array(await subtle.sign("HMAC", key, new Uint8Array([...new Uint8Array(16), 0, 0, 0, 1])));
  const acc = u.slice();
  for (let i = 1; i < iterations; i++) {
    u = new Uint8Array(await subtle.sign("HMAC", key, u));
    for (let j = 0; j < acc.length; j++) acc[j]! ^= u[j]!;
  }
}

export async function benchFloor(call: WorkerCall, databaseUrl: string, runs: number): Promise<void> {
  heading("0. Per-request floor: a new database connection per Worker request");
  const health = await sample(runs, () => call("GET", "/health", { token: DASHBOARD_TOKEN }));
  const scram = await sample(runs, () => driverStylePbkdf2(SCRAM_ITERATIONS), 1);
  const tcp = await sample(runs, async () => {
    const c = await sqlClient(databaseUrl);
    await c.query("SELECT 1");
    await c.end();
  });
  table(LATENCY_HEADERS, [
    latencyRow("GET /health (Worker fetch, SELECT 1)", health, "Neon driver via WebSocket proxy"),
    latencyRow(`SCRAM proof: ${SCRAM_ITERATIONS} awaited WebCrypto HMACs`, scram, "as the Neon driver computes it"),
    latencyRow("node-postgres TCP connect + SELECT 1", tcp, "same server, for scale"),
  ]);
  line();
  line("every Worker request below includes this floor; the SQL itself is in the plans of section 2b");
}
