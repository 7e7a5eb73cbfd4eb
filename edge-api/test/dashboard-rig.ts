// What the dashboard's browser suites share: the Worker with its built assets under `wrangler dev` on a fresh real
// database, Debian's Chromium on the page, the API called as the agent or the dashboard does, and everything the
// browser reported (script errors, console errors such as a refusal by the page's CSP, every request it made).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, inject } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../tools/browser.ts";
import { startEdgeDev, type EdgeDev } from "../../tools/edge-dev.ts";
import { freePort } from "../../tools/ports.ts";
import { freshDatabase, query } from "../../tools/test/db.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS } from "./harness.ts";

export interface Rig {
  edge: EdgeDev;
  page: Page;
  browser: Browser;
  databaseUrl: string;
  pageErrors: string[];
  consoleErrors: string[];
  requests: { url: string; authorization: string | undefined }[];
  db(sql: string): Promise<any[]>;
  /** A JSON call that must answer 200. */
  call(token: string, method: string, path: string, body?: unknown): Promise<any>;
  signIn(): Promise<void>;
  stop(): Promise<void>;
}

export interface RigOptions {
  viewport?: { width: number; height: number };
  /** The Worker's TIMEZONE (its default when left out). */
  timeZone?: string;
  /** The browser's own time zone. */
  browserTimeZone?: string;
  /** Runs on the fresh database before the Worker starts. */
  prepare?(databaseUrl: string): Promise<unknown>;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const viewport = opts.viewport ?? { width: 1400, height: 900 };
  const databaseUrl = await freshDatabase();
  await opts.prepare?.(databaseUrl);
  const dir = await mkdtemp(path.join(tmpdir(), "wam-dashboard-"));
  const output: string[] = [];
  const edge = await startEdgeDev({
    port: await freePort(),
    envFile: path.join(dir, "edge.env"),
    stateDir: dir,
    log: (l) => output.push(l),
    vars: {
      DATABASE_URL: databaseUrl,
      AGENT_TOKEN,
      DASHBOARD_TOKEN,
      NEON_LOCAL_PROXY: inject("pg").proxy,
      NEON_LOCAL_AUTH: inject("pg").auth,
      ...(opts.timeZone ? { TIMEZONE: opts.timeZone } : {}),
    },
  });
  const call = async (token: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(edge.url + route, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${method} ${route}: ${text}`).toBe(200);
    return JSON.parse(text);
  };
  await call(AGENT_TOKEN, "PUT", "/v1/agent/projects", { projects: PROJECTS });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport, ...(opts.browserTimeZone ? { timezoneId: opts.browserTimeZone } : {}) });
  const rig: Rig = {
    edge,
    page,
    browser,
    databaseUrl,
    pageErrors: [],
    consoleErrors: [],
    requests: [],
    db: (sql) => query(databaseUrl, sql),
    call,
    async signIn() {
      await page.goto(edge.url + "/");
      await page.fill("#token", DASHBOARD_TOKEN);
      await page.fill("#reviewer", "Anel");
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#drops tbody tr");
    },
    async stop() {
      await browser.close();
      await edge.stop();
    },
  };
  page.on("pageerror", (e) => rig.pageErrors.push(e.message));
  page.on("console", (m) => void (m.type() === "error" && rig.consoleErrors.push(m.text())));
  page.on("request", (r) => rig.requests.push({ url: r.url(), authorization: r.headers()["authorization"] }));
  page.on("dialog", (d) => {
    rig.pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return rig;
}
