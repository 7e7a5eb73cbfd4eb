// The QA dashboard in a real browser (Debian's Chromium via playwright-core) against the Worker on a real
// database: sign in, find a drop, review it incomplete, and the feedback is scheduled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../tools/browser.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, startEdgeServer, submission, type EdgeServer } from "./harness.ts";

let edge: EdgeServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

async function agentCall(method: string, path: string, body: unknown) {
  const res = await fetch(edge.url + path, {
    method,
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  edge = await startEdgeServer();
  await agentCall("PUT", "/v1/agent/projects", { projects: PROJECTS });
  await agentCall("POST", "/v1/agent/drops", {
    submissions: [
      submission({ dropNumber: "DR70000001", messageId: "UI-1", senderName: "Thabo", text: "DR70000001 done" }),
      // WhatsApp text is shown as text, never run as markup.
      submission({ dropNumber: "DR70000002", messageId: "UI-2", chatJid: PROJECTS[2]!.groupJid, senderName: "<img src=x onerror=alert(1)>", text: "<script>alert(1)</script> DR70000002" }),
    ],
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  page.on("dialog", (d) => {
    consoleErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
});

describe("QA dashboard", () => {
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
    const [fb] = await edge.query("SELECT status, text FROM feedback");
    expect(fb.status).toBe("pending");
    expect(fb.text).toContain("Missing: ONT barcode, Customer signature.");
    expect(fb.text).toContain("Comment: ONT barcode unreadable");
    const [drop] = await edge.query("SELECT status, reviewer, house_photo, ont_barcode FROM drops WHERE drop_number = 'DR70000001'");
    expect(drop).toEqual({ status: "incomplete", reviewer: "Anel", house_photo: true, ont_barcode: false });
    await expect.poll(() => page.textContent('#drops tbody tr[data-drop="DR70000001"]')).toContain("incomplete");
    expect(await page.textContent("#d-reviews")).toContain("incomplete by Anel");
    await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT ?? "/tmp/wam-dashboard.png" });
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
    const rows = await edge.query("SELECT drop_number, status FROM drops ORDER BY drop_number");
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

  it("ran without script errors or dialogs", () => {
    expect(consoleErrors).toEqual([]);
  });
});
