// The photos behind a drop on the dashboard, in Chromium against the Worker under `wrangler dev` (its real local
// R2 binding, a real database): photos uploaded the way the agent uploads them (bytes by SHA-256, then their
// records), shown as thumbnails fetched with the token — never a token in a URL — and displayed through blob:
// URLs the page's CSP allows; the full photo on a click; a suggested step accepted in one click; the group's
// unlinked photo of the same day attached by hand and detached again; the feed's photo count.
import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_TOKEN, DASHBOARD_TOKEN, LAWLEY, submission } from "./harness.ts";
import { startRig, type Rig } from "./dashboard-rig.ts";

const ZONE = "Africa/Johannesburg"; // the Worker's default TIMEZONE: UTC+2 all year
const yesterday = new Date(Date.now() - 86_400_000).toLocaleDateString("en-CA", { timeZone: ZONE });
/** Minutes after noon, yesterday there. */
const at = (minutes: number) => new Date(Date.parse(`${yesterday}T10:00:00.000Z`) + minutes * 60_000).toISOString();

const DROP = "DR71000001";
const THABO = { senderJid: "27821234567@s.whatsapp.net", senderPhone: "+27821234567", senderName: "Thabo" };
const SIPHO = { senderJid: "27845550123@s.whatsapp.net", senderPhone: "+27845550123", senderName: "Sipho" };
const MARKUP = "<img src=x onerror=alert(1)> wall";

const jpeg = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } }).jpeg({ quality: 80 }).toBuffer();
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let rig: Rig;
/** Photo ids by message id, as the edge numbered them. */
const ids = new Map<string, string>();

/** Uploads a photo as the agent does: its bytes, then its record. Full photos are 640×480, thumbnails 96×72. */
async function upload(messageId: string, background: string, record: Record<string, unknown>) {
  const bytes = await jpeg(640, 480, background);
  const thumbnail = await jpeg(96, 72, background);
  const hash = sha256(bytes);
  const put = await fetch(`${rig.edge.url}/v1/agent/photos/blobs/${hash}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "image/jpeg" },
    body: bytes,
  });
  expect(put.status, await put.text()).toBe(200);
  const { results } = await rig.call(AGENT_TOKEN, "POST", "/v1/agent/photos", {
    photos: [
      {
        chatJid: LAWLEY,
        messageId,
        session: "primary",
        kind: "image",
        state: "stored",
        sha256: hash,
        mimetype: "image/jpeg",
        bytes: bytes.length,
        width: 640,
        height: 480,
        caption: null,
        quotedId: null,
        captionDrops: [],
        quotedDrops: [],
        thumbnail: thumbnail.toString("base64"),
        ...record,
      },
    ],
  });
  expect(results).toEqual([{ messageId, status: "new" }]);
}

const drop = () => rig.call(DASHBOARD_TOKEN, "GET", `/v1/drops/${DROP}`);
const photoOf = async (messageId: string) => (await drop()).photos.find((p: any) => p.messageId === messageId);
const card = (where: string, messageId: string) => `${where} figure[data-photo="${ids.get(messageId)}"]`;
/** Every image in this part of the page has loaded from a blob: URL (a refused or failed load has no width). */
const loaded = (selector: string) =>
  rig.page.$$eval(selector, (imgs) => (imgs as HTMLImageElement[]).map((i) => [i.complete && i.naturalWidth, i.src.slice(0, 5)]));

beforeAll(async () => {
  // A short window, so the parts below the fold wait until they are scrolled to.
  rig = await startRig({ viewport: { width: 1400, height: 600 } });
  await rig.call(AGENT_TOKEN, "POST", "/v1/agent/drops", {
    submissions: [submission({ dropNumber: DROP, messageId: "DROP-MSG", ...THABO, text: `${DROP} done`, sentAt: at(0) })],
  });
  await upload("P-HOUSE", "#a33", { ...THABO, sentAt: at(-5), caption: "house" }); // before the drop: same sender
  await upload("P-CAPTION", "#3a3", { ...THABO, sentAt: at(3), caption: `${DROP} ONT barcode`, captionDrops: [DROP] });
  await upload("P-REPLY", "#33a", { ...THABO, sentAt: at(4), quotedId: "DROP-MSG", quotedDrops: [DROP] });
  await upload("P-MARKUP", "#aa3", { ...THABO, sentAt: at(6), caption: MARKUP });
  await upload("P-OTHER", "#3aa", { ...SIPHO, sentAt: at(8) }); // another installer, no drop of his: unlinked
  for (const p of (await drop()).photos) ids.set(p.messageId, p.id);
  const unlinked = await rig.call(DASHBOARD_TOKEN, "GET", `/v1/photos?project=Lawley&unlinked=true&date=${yesterday}`);
  for (const p of unlinked.items) ids.set(p.messageId, p.id);
  expect([...ids.keys()].sort()).toEqual(["P-CAPTION", "P-HOUSE", "P-MARKUP", "P-OTHER", "P-REPLY"]);
  await rig.signIn();
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

describe("photos on the dashboard", () => {
  it("counts each drop's photos in the feed", async () => {
    const { items } = await rig.call(DASHBOARD_TOKEN, "GET", "/v1/drops");
    expect(items.find((d: any) => d.dropNumber === DROP).photoCount).toBe(4);
    expect(await rig.page.textContent(`#drops tbody tr[data-drop="${DROP}"] td.photo-count`)).toBe("4");
  });

  it("shows the drop's photos as thumbnails fetched with the token and shown through blob: URLs", async () => {
    await rig.page.click(`#drops tbody tr[data-drop="${DROP}"]`);
    await rig.page.waitForSelector("#d-photos figure");
    const shown = await rig.page.$$eval("#d-photos figure", (fs) => fs.map((f) => f.getAttribute("data-photo")));
    expect(shown).toEqual(["P-HOUSE", "P-CAPTION", "P-REPLY", "P-MARKUP"].map((m) => ids.get(m))); // in sentAt order
    await expect.poll(() => loaded("#d-photos img"), { timeout: 10_000 }).toEqual(Array(4).fill([96, "blob:"]));

    const thumbnails = rig.requests.filter((r) => r.url.includes("/thumbnail"));
    expect(thumbnails.length).toBeGreaterThanOrEqual(4);
    for (const r of thumbnails) expect(r.authorization).toBe(`Bearer ${DASHBOARD_TOKEN}`);
    expect(rig.requests.filter((r) => r.url.includes(DASHBOARD_TOKEN))).toEqual([]);
    // WhatsApp text is shown as text.
    expect(await rig.page.textContent(`${card("#d-photos", "P-MARKUP")} .caption`)).toBe(MARKUP);
    expect(await rig.page.textContent(`${card("#d-photos", "P-HOUSE")} figcaption`)).toContain("Thabo");
  });

  it("loads a thumbnail only once it is scrolled into view", async () => {
    await rig.page.waitForSelector(card("#d-unlinked", "P-OTHER"));
    const other = `/v1/photos/${ids.get("P-OTHER")}/thumbnail`;
    expect(rig.requests.filter((r) => r.url.endsWith(other))).toEqual([]);
    await rig.page.locator(card("#d-unlinked", "P-OTHER")).scrollIntoViewIfNeeded();
    await expect.poll(() => loaded("#d-unlinked img")).toEqual([[96, "blob:"]]);
    expect(rig.requests.filter((r) => r.url.endsWith(other))).toHaveLength(1);
  });

  it("opens the full photo on a click, and lets it go when closed", async () => {
    await rig.page.evaluate(() => {
      const revoked: string[] = ((window as unknown as { revoked: string[] }).revoked = []);
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.revokeObjectURL = (u: string) => (revoked.push(u), revoke(u));
    });
    await rig.page.locator(`${card("#d-photos", "P-HOUSE")} button.thumb`).scrollIntoViewIfNeeded();
    await rig.page.click(`${card("#d-photos", "P-HOUSE")} button.thumb`);
    await rig.page.waitForSelector("#viewer[open]");
    await expect.poll(() => loaded("#viewer-img")).toEqual([[640, "blob:"]]);
    const full = rig.requests.filter((r) => r.url.endsWith(`/v1/photos/${ids.get("P-HOUSE")}`));
    expect(full.map((r) => r.authorization)).toEqual([`Bearer ${DASHBOARD_TOKEN}`]);
    expect(await rig.page.textContent("#viewer-caption")).toBe("house");
    const src = (await rig.page.getAttribute("#viewer-img", "src"))!;
    await rig.page.click("#viewer-close");
    expect(await rig.page.$("#viewer[open]")).toBeNull();
    // The blob: URL was let go. (Watched at the page's URL.revokeObjectURL: a revoked URL may still be served from
    // Chromium's image cache, and a fetch() of it is refused by the CSP's connect-src either way.)
    // The dialog's close event comes a task after it closed: poll.
    await expect.poll(() => rig.page.evaluate(() => (window as unknown as { revoked: string[] }).revoked)).toContain(src);    // Only that one: the thumbnail still on screen keeps its URL.
    const shown = (await rig.page.getAttribute(`${card("#d-photos", "P-HOUSE")} img`, "src"))!;
    expect(shown).toMatch(/^blob:/);
    expect(await rig.page.evaluate(() => (window as unknown as { revoked: string[] }).revoked)).toEqual([src]);
  });

  it("offers the caption's suggested step, tags the photo with it in one click, and shows it beside that step", async () => {
    expect((await photoOf("P-HOUSE")).suggestedStep).toBe("house_photo");
    const accept = `${card("#d-photos", "P-HOUSE")} button.suggested[data-step=house_photo]`;
    expect(await rig.page.textContent(accept)).toContain("House photo");
    await rig.page.click(accept);
    await expect.poll(async () => (await photoOf("P-HOUSE")).step).toBe("house_photo");
    await rig.page.waitForSelector(`${card("#d-photos", "P-HOUSE")} select.step.tagged`);
    expect(await rig.page.$(accept)).toBeNull();
    expect(await rig.page.inputValue(`${card("#d-photos", "P-HOUSE")} select.step`)).toBe("house_photo");
    await expect.poll(() => loaded('#d-steps .step-photos[data-step="house_photo"] img')).toEqual([[96, "blob:"]]);
    expect(await rig.page.$$eval("#d-steps .step-photos img", (xs) => xs.length)).toBe(1);
  });

  it("changes and clears a photo's step", async () => {
    const select = `${card("#d-photos", "P-REPLY")} select.step`;
    await rig.page.selectOption(select, "green_lights");
    await expect.poll(async () => (await photoOf("P-REPLY")).step).toBe("green_lights");
    await rig.page.waitForSelector('#d-steps .step-photos[data-step="green_lights"] button.mini');
    await rig.page.selectOption(select, "");
    await expect.poll(async () => (await photoOf("P-REPLY")).step).toBeNull();
    await expect.poll(() => rig.page.$$eval('#d-steps .step-photos[data-step="green_lights"] button', (xs) => xs.length)).toBe(0);
  });

  it("attaches the group's unlinked photo of that day by hand, and detaches it again", async () => {
    expect(await rig.page.textContent(`${card("#d-unlinked", "P-OTHER")} figcaption`)).toContain("Sipho");
    await rig.page.click(`${card("#d-unlinked", "P-OTHER")} button.attach`);
    await rig.page.waitForSelector(card("#d-photos", "P-OTHER"));
    expect(await photoOf("P-OTHER")).toMatchObject({ linkedBy: "manual", senderName: "Sipho" });
    await expect.poll(() => rig.page.$$eval("#d-unlinked figure", (xs) => xs.length)).toBe(0);
    expect(await rig.page.isVisible("#d-no-unlinked")).toBe(true);
    await expect.poll(() => rig.page.textContent(`#drops tbody tr[data-drop="${DROP}"] td.photo-count`)).toBe("5");

    await rig.page.click(`${card("#d-photos", "P-OTHER")} button.detach`);
    await rig.page.waitForSelector(card("#d-unlinked", "P-OTHER"));
    expect(await photoOf("P-OTHER")).toBeUndefined();
    await expect.poll(() => rig.page.textContent(`#drops tbody tr[data-drop="${DROP}"] td.photo-count`)).toBe("4");
  });

  it("never put the token in a URL, and ran without script errors or anything its Content-Security-Policy refused", () => {
    expect(rig.requests.filter((r) => r.url.includes(DASHBOARD_TOKEN))).toEqual([]);
    expect(rig.pageErrors).toEqual([]);
    expect(rig.consoleErrors).toEqual([]);
  });
});
