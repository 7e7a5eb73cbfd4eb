// Where the Worker's settings come from: their defaults in the schema (edge-api/src/env.ts) only; wrangler.toml
// sets what a deployment changes; `npm start` passes those set in its environment.
import { fileURLToPath } from "node:url";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig, Settings, type Env } from "../../edge-api/src/env.ts";
import { settingsFromEnvironment } from "../stack.ts";
import { testPhotos } from "./photos.ts";

const WRANGLER_TOML = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const DEFAULTS = Settings.parse({});

describe("wrangler.toml", () => {
  const named = Object.keys(experimental_readRawConfig({ config: WRANGLER_TOML }).rawConfig.env ?? {});
  const environments = [{ name: "(top level)", env: undefined }, ...named.map((env) => ({ name: env, env }))];

  it.each(environments)("$name sets only settings the schema knows, and none to its default", ({ env }) => {
    const { vars } = unstable_readConfig({ config: WRANGLER_TOML, env });
    for (const [name, value] of Object.entries(vars)) {
      expect(Object.keys(Settings.shape), `${name} is not a Worker setting`).toContain(name);
      const parsed = Settings.parse({ [name]: value }) as Record<string, unknown>;
      expect(parsed[name], `${name} restates the schema's default`).not.toEqual((DEFAULTS as Record<string, unknown>)[name]);
    }
  });

  it.each(environments)("$name binds its own R2 bucket as PHOTOS", ({ env }) => {
    const bucket = env ? `wa-monitor-photos-${env}` : "wa-monitor-photos";
    expect(unstable_readConfig({ config: WRANGLER_TOML, env }).r2_buckets).toEqual([expect.objectContaining({ binding: "PHOTOS", bucket_name: bucket })]);
  });

  it.each(environments)("$name runs the cron every minute", ({ env }) => {
    expect(unstable_readConfig({ config: WRANGLER_TOML, env }).triggers.crons).toEqual(["* * * * *"]);
  });
});

describe("npm start", () => {
  it("passes the Worker's settings from its environment, and nothing else", () => {
    const env = {
      FEED_MAX_LIMIT: "3",
      FEEDBACK_PER_MINUTE: "5",
      TIMEZONE: "", // unset in effect: the schema's default applies
      FEEDBACK_SOMETHING_ELSE: "1",
      DATABASE_URL: "postgres://elsewhere/db",
      PATH: "/usr/bin",
    };
    expect(settingsFromEnvironment(env)).toEqual({ FEED_MAX_LIMIT: "3", FEEDBACK_PER_MINUTE: "5" });
  });
});

describe("renamed settings", () => {
  const env = { DATABASE_URL: "postgres://h/db", AGENT_TOKEN: "agent-token-0123456789", DASHBOARD_TOKEN: "dashboard-token-0123456789" } as Env;
  beforeAll(async () => {
    env.PHOTOS = (await testPhotos()).PHOTOS;
  });
  it("a deployment still setting BRIDGE_STALE_SECONDS keeps its value as SESSION_STALE_SECONDS; the new name wins", () => {
    expect(loadConfig({ ...env }).SESSION_STALE_SECONDS).toBe(120);
    expect(loadConfig({ ...env, BRIDGE_STALE_SECONDS: "300" }).SESSION_STALE_SECONDS).toBe(300);
    expect(loadConfig({ ...env, BRIDGE_STALE_SECONDS: "300", SESSION_STALE_SECONDS: "200" }).SESSION_STALE_SECONDS).toBe(200);
    expect(loadConfig({ ...env, SESSION_STALE_SECONDS: "200" })).not.toHaveProperty("BRIDGE_STALE_SECONDS");
  });
});
