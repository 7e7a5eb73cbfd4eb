import type { Config, Env } from "./env.ts";
import type { Db } from "./db/client.ts";

/** Hono's typed environment for every route: bindings, plus what the request middleware provides. */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: Config; db: Db };
}
