// The QA dashboard as deployed: its static assets and _headers served by workerd under `wrangler dev`, the
// Worker behind them on a real database, in a real browser (Debian's Chromium via playwright-core). Sign in,
// find a drop, review it incomplete, and the feedback is scheduled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { QA_STEPS } from "@wa-monitor/shared";
import { PAGE_HEADERS } from "../src/http/page-headers.ts";
import { rebuildDailyStats } from "../../tools/stats-rollup.ts";
import { startRig, type Rig } from "./dashboard-rig.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, submission } from "./harness.ts";

// Not the default zone, and not the browser's (Tokyo, below): the page must show the edge's.
const ZONE = "America/Los_Angeles";
const SENT_AT = "2026-11-24T08:15:00.000Z"; // 00:15 in Los Angeles, 10:15 in Johannesburg, 17:15 in Tokyo

let rig: Rig;
let edge: Rig["edge"];
let page: Page;
const db = (sql: string) => rig.db(sql);
const call = (token: string, method: string, path: string, body?: unknown) => rig.call(token, method, path, body);

beforeAll(async () => {
  rig = await startRig({
    timeZone: ZONE,
    browserTimeZone: "Asia/Tokyo",
    // As an operator does after choosing another zone.
    prepare: (databaseUrl) => rebuildDailyStats(databaseUrl, ZONE),
  });
  ({ edge, page } = rig);
  await call(AGENT_TOKEN, "POST", "/v1/agent/drops", {
    submissions: [
      submission({ dropNumber: "DR70000001", messageId: "UI-1", senderName: "Thabo", text: "DR70000001 done", sentAt: SENT_AT }),
      // WhatsApp text is shown as text, never run as markup.
      submission({ dropNumber: "DR70000002", messageId: "UI-2", chatJid: PROJECTS[2]!.groupJid, senderName: "<img src=x onerror=alert(1)>", text: "<script>alert(1)</script> DR70000002" }),
    ],
  });
  await call(AGENT_TOKEN, "POST", "/v1/agent/heartbeat", {
    agent: "vps-1",
    sessions: [{ name: "primary", role: "capture", state: "open", phone: null, lastEventAt: null }],
  });
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

describe("QA dashboard", () => {
  it("is served with its security headers: the page, its script and its styles", async () => {
    for (const [asset, type] of [["/", "text/html"], ["/dashboard.js", "text/javascript"], ["/dashboard.css", "text/css"]] as const) {
      const res = await fetch(edge.url + asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get("content-type"), asset).toContain(type);
      for (const [name, value] of Object.entries(PAGE_HEADERS)) expect(res.headers.get(name), `${asset} ${name}`).toBe(value);
      await res.body?.cancel();
    }
    // The rules themselves are not an asset.
    expect((await fetch(edge.url + "/_headers")).status).toBe(404);
  });

  it("refuses a wrong token and signs in with the right one", async () => {
    await page.goto(edge.url + "/");
    await page.fill("#token", "not-the-token-at-all");
    await page.fill("#reviewer", "Anel");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#login-error")).toContain("not accepted");
    expect(await page.isVisible("#app")).toBe(false);
    await page.fill("#token", DASHBOARD_TOKEN);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#drops tbody tr");
    expect(await page.isVisible("#login")).toBe(false);
    const rows = await page.$$eval("#drops tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-drop")));
    expect(rows.sort()).toEqual(["DR70000001", "DR70000002"]);
    expect(await page.textContent("#drops tbody")).toContain("<img src=x onerror=alert(1)>");
    expect(await page.textContent("#today")).toMatch(/Today: \d+ new/);
  });

  it("shows times in the edge's time zone (GET /v1/settings), not the browser's", async () => {
    expect((await call(DASHBOARD_TOKEN, "GET", "/v1/settings")).timeZone).toBe(ZONE);
    expect(await page.textContent('#drops tbody tr[data-drop="DR70000001"]')).toContain("24 Nov 2026, 00:15");
  });

  it("shows the WhatsApp sessions from GET /v1/sessions, and says session, never bridge", async () => {
    await expect.poll(() => page.textContent("#sessions")).toBe("primary: open");
    expect(await page.getAttribute("#sessions .chip", "title")).toContain("vps-1");
    expect(await page.content()).not.toMatch(/bridge/i); // text, ids and classes alike
  });

  it("filters by project", async () => {
    await page.selectOption("#f-project", "Mohadin");
    await page.click("#filters button[type=submit]");
    await expect.poll(() => page.$$eval("#drops tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-drop")))).toEqual(["DR70000002"]);
    await page.selectOption("#f-project", "");
    await page.click("#filters button[type=submit]");
    await expect.poll(() => page.$$eval("#drops tbody tr", (trs) => trs.length)).toBe(2);
  });

  it("reviews a drop incomplete and schedules feedback naming the missing steps", async () => {
    await page.click('#drops tbody tr[data-drop="DR70000001"]');
    await page.waitForSelector("#detail:not([hidden]) #d-steps input");
    expect(await page.$$eval("#d-steps input", (xs) => xs.length)).toBe(12);
    for (const key of ["house_photo", "cable_from_pole", "cable_entry_outside", "cable_entry_inside", "wall_for_installation", "ont_back_after_install", "power_meter_reading", "ups_serial", "final_installation", "green_lights"]) {
      await page.check(`#d-steps input[name=${key}]`);
    }
    await page.fill("#d-comment", "ONT barcode unreadable");
    await page.click("#mark-incomplete");
    await expect.poll(() => page.textContent("#d-result")).toContain("feedback scheduled");
    const [fb] = await db("SELECT status, text FROM feedback");
    expect(fb.status).toBe("pending");
    expect(fb.text).toContain("Missing: ONT barcode, Customer signature.");
    expect(fb.text).toContain("Comment: ONT barcode unreadable");
    const [drop] = await db("SELECT status, reviewer, house_photo, ont_barcode FROM drops WHERE drop_number = 'DR70000001'");
    expect(drop).toEqual({ status: "incomplete", reviewer: "Anel", house_photo: true, ont_barcode: false });
    await expect.poll(() => page.textContent('#drops tbody tr[data-drop="DR70000001"]')).toContain("incomplete");
    expect(await page.textContent("#d-reviews")).toContain("incomplete by Anel");
    expect(await page.textContent("#d-submissions")).toContain("24 Nov 2026, 00:15 · Thabo via primary\nDR70000001 done");
    await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT ?? "/tmp/wam-dashboard.png" });
  });

  it("names the steps as GET /v1/settings does, in its order", async () => {
    const { qaSteps } = await call(DASHBOARD_TOKEN, "GET", "/v1/settings");
    expect(qaSteps).toEqual(QA_STEPS.map(({ key, label }) => ({ key, label })));
    const shown = await page.$$eval("#d-steps label", (ls) => ls.map((l) => [l.querySelector("input")!.name, l.textContent]));
    expect(shown).toEqual(qaSteps.map((s: { key: string; label: string }) => [s.key, s.label]));
  });

  it("takes the step labels and the time zone from the API, not from a copy of its own", async () => {
    await page.route("**/v1/settings", async (route) => {
      const res = await route.fetch();
      const settings = await res.json();
      settings.timeZone = "Asia/Kolkata";
      settings.qaSteps[0].label = "House photo (front)";
      await route.fulfill({ response: res, json: settings });
    });
    await page.reload();
    await page.waitForSelector("#drops tbody tr");
    expect(await page.textContent('#drops tbody tr[data-drop="DR70000001"]')).toContain("24 Nov 2026, 13:45");
    await page.click('#drops tbody tr[data-drop="DR70000001"]');
    await page.waitForSelector("#detail:not([hidden]) #d-steps input");
    expect(await page.textContent("#d-steps label:first-of-type")).toBe("House photo (front)");
    await page.unroute("**/v1/settings");
    await page.reload();
    await page.waitForSelector("#drops tbody tr");
  });

  it("a slow answer for a drop clicked earlier never replaces the one clicked last", async () => {
    await page.route("**/v1/drops/DR70000002", async (route) => {
      await new Promise((r) => setTimeout(r, 800));
      await route.continue();
    });
    await page.click('#drops tbody tr[data-drop="DR70000002"]');
    await page.click('#drops tbody tr[data-drop="DR70000001"]');
    await expect.poll(() => page.textContent("#d-title")).toContain("DR70000001");
    await new Promise((r) => setTimeout(r, 1200)); // the slow answer for DR70000002 has arrived by now
    expect(await page.textContent("#d-title")).toContain("DR70000001");
    await page.click("#mark-complete");
    await expect.poll(() => page.textContent("#d-result")).toContain("Marked complete");
    const rows = await db("SELECT drop_number, status FROM drops ORDER BY drop_number");
    expect(rows).toEqual([
      { drop_number: "DR70000001", status: "complete" },
      { drop_number: "DR70000002", status: "new" },
    ]);
    await page.unroute("**/v1/drops/DR70000002");
  });

  it("remembers the sign-in across a reload, and signing out forgets it", async () => {
    await page.reload();
    await page.waitForSelector("#drops tbody tr");
    expect(await page.isVisible("#login")).toBe(false);
    await page.click("#signout");
    expect(await page.isVisible("#login")).toBe(true);
    await page.reload();
    expect(await page.isVisible("#login")).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem("wam.token"))).toBeNull();
  });

  it("ran without script errors, dialogs or anything its Content-Security-Policy refused", () => {
    expect(rig.pageErrors).toEqual([]);
    // The wrong token's 401 is the one error the browser logs on its own.
    expect(rig.consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});
