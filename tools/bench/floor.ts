// Benchmark 0: what every Worker request pays before its SQL runs. The Worker opens a Neon connection per
// request; the floor is GET /health with its database probe (HEALTH_PROBE_SECONDS=0, so every request probes),
// as a ratio to the cheapest way to ask this Postgres anything: a node-postgres TCP connect + SELECT 1.
//
// Logins are as on Neon (tools/pg-auth.ts): startup, cleartext password and the probe pipelined in one round
// trip. The same requests under SCRAM-SHA-256 — what the local stack used to do, and what PG_AUTH=scram-sha-256
// still does — are shown beside them for comparison, not against the target.
import type { PgAuth } from "../pg-auth.ts";
import { figure } from "./figures.ts";
import { heading, LATENCY_HEADERS, latencyRow, line, ms, sample, summarize, table } from "./measure.ts";
import { edgeEnv, sqlClient, workerClient, type Rig, type WorkerCall } from "./rig.ts";

/** GET /health on a Worker that probes on every request (its HEALTH_PROBE_SECONDS must be 0). */
export function measureHealth(call: WorkerCall, runs: number): Promise<number[]> {
  return sample(runs, () => call("GET", "/health"));
}

/** A plain node-postgres TCP connection, SELECT 1, and goodbye. */
export function measurePgConnect(databaseUrl: string, runs: number): Promise<number[]> {
  return sample(runs, async () => {
    const c = await sqlClient(databaseUrl);
    await c.query("SELECT 1");
    await c.end();
  });
}

const median = (xs: number[]) => summarize(xs).median;

/** Records the floor figure: median GET /health over median connect + SELECT 1, both raw numbers in the note. */
export function floorFigure(health: number[], pg: number[], where: string, how: string): void {
  figure(
    `request floor: GET /health ÷ pg connect + SELECT 1 (${where})`,
    median(health) / median(pg),
    "×",
    "<= 2",
    `medians ${ms(median(health))} ms ÷ ${ms(median(pg))} ms; ${how}`,
  );
}

export async function benchFloor(rig: Rig, databaseUrl: string, runs: number): Promise<void> {
  heading("0. Per-request floor: a new database connection per Worker request");
  const measure = async (auth: PgAuth) => {
    const env = { ...edgeEnv(rig, databaseUrl), NEON_LOCAL_AUTH: auth, HEALTH_PROBE_SECONDS: "0" };
    const before = rig.connections();
    const health = await measureHealth(workerClient(env), runs);
    // Every request must have probed, or the figure would time a cached answer.
    if (rig.connections() - before < runs) throw new Error("GET /health answered without probing the database");
    return { health, pg: await measurePgConnect(databaseUrl, runs) };
  };
  const main = rig.auth;
  const other: PgAuth = main === "password" ? "scram-sha-256" : "password";
  const ours = await measure(main);
  await rig.setAuth(other);
  const theirs = await measure(other).finally(() => rig.setAuth(main));

  const label = (auth: PgAuth) => (auth === "password" ? "cleartext password, pipelined (as Neon)" : "SCRAM-SHA-256, not pipelined");
  table(LATENCY_HEADERS, [
    latencyRow("GET /health (probe: Worker fetch, SELECT 1)", ours.health, label(main)),
    latencyRow("node-postgres TCP connect + SELECT 1", ours.pg, label(main).replace(/, .*/, "")),
    latencyRow("GET /health (probe: Worker fetch, SELECT 1)", theirs.health, `${label(other)}; comparison only`),
    latencyRow("node-postgres TCP connect + SELECT 1", theirs.pg, `${label(other).replace(/, .*/, "")}; comparison only`),
  ]);
  line();
  floorFigure(ours.health, ours.pg, "Worker in-process", label(main));
  line(
    `  (${label(other)}: ${ms(median(theirs.health))} ms ÷ ${ms(median(theirs.pg))} ms = ` +
      `${(median(theirs.health) / median(theirs.pg)).toFixed(2)}×, for comparison; not a target)`,
  );
  line("every Worker request below includes this floor; the SQL itself is in the plans of section 2b");
}
