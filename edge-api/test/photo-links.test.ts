// Which drop each photo belongs to: the linking rules in their order (manual, caption, reply, the sender's nearest
// drop message within PHOTO_WINDOW_MINUTES), recomputed when a photo arrives and when a drop message arrives —
// through the Worker's drop ingest and the photo ingest's own call, on real Postgres.
import { beforeAll, describe, expect, it } from "vitest";
import { UNKNOWN_SENDER, type DropSubmission } from "@wa-monitor/shared";
import { query } from "../../tools/test/db.ts";
import { openDb, type Queryable } from "../src/db/client.ts";
import { ingestSubmissions } from "../src/db/ingest.ts";
import { loadConfig } from "../src/env.ts";
import { edgeHarness, LAWLEY, PROJECTS, submission, type Edge } from "./harness.ts";
import { photoFixtures, sender } from "./photo-fixtures.ts";

let edge: Edge;
let photos: ReturnType<typeof photoFixtures>;

beforeAll(async () => {
  edge = await edgeHarness();
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  photos = photoFixtures(edge);
});

const at = (hhmmss: string) => `2026-11-24T${hhmmss.length === 5 ? `${hhmmss}:00` : hhmmss}.000Z`;

/** A drop message posted in the group by `who`, delivered through the Worker's drop ingest. */
async function post(who: Who, dropNumbers: string[], sentAt: string, over: Record<string, unknown> = {}) {
  const messageId = `msg-${dropNumbers.join("-")}-${sentAt}-${Math.random().toString(36).slice(2)}`;
  const submissions = dropNumbers.map((dropNumber) => submission({ ...who, dropNumber, messageId, sentAt, text: `${dropNumbers.join(" ")} done`, ...over }));
  const r = await edge.agent("POST", "/v1/agent/drops", { submissions });
  expect(r.status).toBe(200);
  return messageId;
}

type Who = { senderJid: string; senderPhone: string | null; senderName: string };

const photo = (
  who: Who,
  sentAt: string,
  over: Partial<Parameters<typeof photos.addPhoto>[0]> = {},
  opts: { beforeCommit?: () => Promise<void> } = {},
) => photos.addPhoto({ ...who, sentAt, ...over }, opts);

describe("the sender's nearest drop message", () => {
  it("links photos after a drop message to it, and photos before it to the first one after", async () => {
    const thabo = sender(1, "Thabo");
    const before = await photo(thabo, at("09:40"));
    expect(await photos.linksOf(before)).toEqual([]); // nothing yet: the drop message has not arrived
    await post(thabo, ["DR11000001"], at("10:00"));
    const after = await photo(thabo, at("10:05"));
    const later = await photo(thabo, at("10:30"));
    expect(await photos.linksOf(before)).toEqual([["DR11000001", "sender_window"]]);
    expect(await photos.linksOf(after)).toEqual([["DR11000001", "sender_window"]]);
    expect(await photos.linksOf(later)).toEqual([["DR11000001", "sender_window"]]);
  });

  it("prefers the latest drop message before the photo to a nearer one after it, and re-links when a later one arrives", async () => {
    const lerato = sender(2, "Lerato");
    await post(lerato, ["DR12000001"], at("10:00"));
    const p = await photo(lerato, at("10:25"));
    expect(await photos.linksOf(p)).toEqual([["DR12000001", "sender_window"]]);
    await post(lerato, ["DR12000002"], at("10:30")); // 5 minutes after: the one before still wins
    expect(await photos.linksOf(p)).toEqual([["DR12000001", "sender_window"]]);
    await post(lerato, ["DR12000003"], at("10:20")); // a later one before the photo, delivered late
    expect(await photos.linksOf(p)).toEqual([["DR12000003", "sender_window"]]);
  });

  it("never links another sender's photo, which stays an unlinked photo of the group", async () => {
    const sipho = sender(3, "Sipho");
    const naledi = sender(4, "Naledi");
    await post(sipho, ["DR13000001"], at("11:00"));
    const hers = await photo(naledi, at("11:02"));
    expect(await photos.linksOf(hers)).toEqual([]);
    const r = await edge.dash("GET", "/v1/photos?project=Lawley&unlinked=true&date=2026-11-24&limit=200");
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { id: string }) => i.id)).toContain(hers);
    expect(r.body.items.find((i: { id: string }) => i.id === hers)).toMatchObject({ chatJid: LAWLEY, dropNumbers: [], linkedBy: null });
  });

  it("never takes two messages whose sender WhatsApp did not name for one sender's", async () => {
    const nobody = { senderJid: UNKNOWN_SENDER, senderPhone: null, senderName: "" };
    await post(nobody, ["DR13500001"], at("11:00"));
    const theirs = await photo(nobody, at("11:02"));
    expect(await photos.linksOf(theirs)).toEqual([]);
  });

  it("knows the same person under another JID by the phone both sides know, and only then", async () => {
    const thandi = sender(5, "Thandi");
    await post(thandi, ["DR14000001"], at("12:00"));
    const asLid = await photo({ ...thandi, senderJid: "190000000000005@lid" }, at("12:03"));
    const lidWithoutPhone = await photo({ ...thandi, senderJid: "190000000000005@lid", senderPhone: null }, at("12:04"));
    expect(await photos.linksOf(asLid)).toEqual([["DR14000001", "sender_window"]]);
    expect(await photos.linksOf(lidWithoutPhone)).toEqual([]);
  });

  it("links a photo to every drop its sender's nearest message names", async () => {
    const bongani = sender(6, "Bongani");
    await post(bongani, ["DR15000001", "DR15000002"], at("13:00"));
    const p = await photo(bongani, at("13:10"));
    expect(await photos.linksOf(p)).toEqual([
      ["DR15000001", "sender_window"],
      ["DR15000002", "sender_window"],
    ]);
  });

  it("counts a resubmission as a drop message: the photos after it go to the drop posted again, also when it arrives late", async () => {
    const ayanda = sender(10, "Ayanda");
    await post(ayanda, ["DR18000001"], at("08:00"));
    await post(ayanda, ["DR18000002"], at("09:00"));
    const p = await photo(ayanda, at("09:40"));
    expect(await photos.linksOf(p)).toEqual([["DR18000002", "sender_window"]]);
    // DR18000001 posted again at 09:30 (its photos redone), delivered only now: the nearest message before the photo.
    const again = await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ ...ayanda, dropNumber: "DR18000001", sentAt: at("09:30") })] });
    expect(again.body.results.map((x: { status: string }) => x.status)).toEqual(["resubmission"]);
    expect(await photos.linksOf(p)).toEqual([["DR18000001", "sender_window"]]);
    expect(await photos.relinkAll()).toBe(0);
  });

  it("keeps to the window, its edges included: PHOTO_WINDOW_MINUTES (60) before and after", async () => {
    const zanele = sender(7, "Zanele");
    await post(zanele, ["DR16000001"], at("14:00"));
    const edgeAfter = await photo(zanele, at("15:00:00"));
    const pastAfter = await photo(zanele, at("15:00:01"));
    const edgeBefore = await photo(zanele, at("13:00:00"));
    const pastBefore = await photo(zanele, at("12:59:59"));
    expect(await photos.linksOf(edgeAfter)).toEqual([["DR16000001", "sender_window"]]);
    expect(await photos.linksOf(pastAfter)).toEqual([]);
    expect(await photos.linksOf(edgeBefore)).toEqual([["DR16000001", "sender_window"]]);
    expect(await photos.linksOf(pastBefore)).toEqual([]);
    // The drop message arriving after the photos is held to the same edges.
    const mpho = sender(8, "Mpho");
    const early = await photo(mpho, at("15:59:59"));
    const onEdge = await photo(mpho, at("16:00:00"));
    await post(mpho, ["DR16000002"], at("17:00"));
    expect(await photos.linksOf(early)).toEqual([]);
    expect(await photos.linksOf(onEdge)).toEqual([["DR16000002", "sender_window"]]);
  });

  it("takes the window from the Worker's PHOTO_WINDOW_MINUTES", async () => {
    const narrow = await edgeHarness({ PHOTO_WINDOW_MINUTES: "10" });
    expect((await narrow.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
    const fixtures = photoFixtures(narrow);
    const who = sender(9);
    const near = await fixtures.addPhoto({ ...who, sentAt: at("08:50") });
    const far = await fixtures.addPhoto({ ...who, sentAt: at("08:45") });
    const r = await narrow.agent("POST", "/v1/agent/drops", { submissions: [submission({ ...who, dropNumber: "DR17000001", sentAt: at("09:00") })] });
    expect(r.status).toBe(200);
    expect(await fixtures.linksOf(near)).toEqual([["DR17000001", "sender_window"]]);
    expect(await fixtures.linksOf(far)).toEqual([]);
  });
});

describe("captions and replies", () => {
  it("links a captioned photo to each drop its caption names, over its sender's nearest drop message", async () => {
    const who = sender(20);
    const other = sender(21);
    await post(other, ["DR20000001"], at("07:00"));
    await post(other, ["DR20000002"], at("07:01"));
    await post(who, ["DR20000003"], at("09:00"));
    const p = await photo(who, at("09:05"), { caption: "DR20000001 and DR20000002 pole", captionDrops: ["DR20000001", "DR20000002"] });
    expect(await photos.linksOf(p)).toEqual([
      ["DR20000001", "caption"],
      ["DR20000002", "caption"],
    ]);
  });

  it("links a reply to the drop its quoted message names, even another sender's, and a caption beats a reply", async () => {
    const who = sender(22);
    const other = sender(23);
    const quoted = await post(other, ["DR21000001"], at("06:00"));
    await post(who, ["DR21000002"], at("09:00"));
    const reply = await photo(who, at("09:05"), { quotedId: quoted, quotedDrops: ["DR21000001"] });
    expect(await photos.linksOf(reply)).toEqual([["DR21000001", "reply"]]);
    const both = await photo(who, at("09:06"), { quotedId: quoted, quotedDrops: ["DR21000001"], captionDrops: ["DR21000002"] });
    expect(await photos.linksOf(both)).toEqual([["DR21000002", "caption"]]);
  });

  it("falls back while the named drop does not exist, and links to it by caption or reply once it does", async () => {
    const who = sender(24);
    await post(who, ["DR22000001"], at("09:00"));
    const captioned = await photo(who, at("09:10"), { caption: "DR22000009 house", captionDrops: ["DR22000009"] });
    const replying = await photo(who, at("09:11"), { quotedDrops: ["DR22000008"] });
    expect(await photos.linksOf(captioned)).toEqual([["DR22000001", "sender_window"]]);
    expect(await photos.linksOf(replying)).toEqual([["DR22000001", "sender_window"]]);
    // The named drops arrive, posted by someone else in another group, hours later: the links are recomputed.
    await post(sender(25), ["DR22000009", "DR22000008"], at("20:00"), { chatJid: PROJECTS[1]!.groupJid });
    expect(await photos.linksOf(captioned)).toEqual([["DR22000009", "caption"]]);
    expect(await photos.linksOf(replying)).toEqual([["DR22000008", "reply"]]);
  });
});

describe("a caption edited after the photo was posted", () => {
  // WhatsApp lets a caption be edited (for 15 minutes). The agent delivers the drops an edit names as drop messages
  // of the message it edits — the photo's own message id — at the edit's time; the photo's record keeps the caption
  // it was first sent with, so its captionDrops do not name them.
  it("links the photo by caption to the drop its edited caption names, over its sender's nearest drop message", async () => {
    const who = sender(60);
    await post(who, ["DR60000001"], at("10:00"));
    const messageId = `img-edited-${Math.random().toString(36).slice(2)}`;
    const p = await photo(who, at("10:30"), { messageId, caption: "house" });
    expect(await photos.linksOf(p)).toEqual([["DR60000001", "sender_window"]]);
    const r = await edge.agent("POST", "/v1/agent/drops", {
      submissions: [submission({ ...who, messageId, dropNumber: "DR60000002", text: "DR60000002 house", sentAt: at("10:31") })],
    });
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual(["new"]);
    expect(await photos.linksOf(p)).toEqual([["DR60000002", "caption"]]);
    expect(await photos.relinkAll()).toBe(0);
  });

  it("links it even when the edit comes later than the window after the photo, and keeps the caption's own drops", async () => {
    const narrow = await edgeHarness({ PHOTO_WINDOW_MINUTES: "5" });
    expect((await narrow.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
    const fixtures = photoFixtures(narrow);
    const who = sender(61);
    expect((await narrow.agent("POST", "/v1/agent/drops", { submissions: [submission({ ...who, dropNumber: "DR61000001", sentAt: at("10:00") })] })).status).toBe(200);
    const messageId = `img-edited-${Math.random().toString(36).slice(2)}`;
    const p = await fixtures.addPhoto({ ...who, messageId, sentAt: at("10:02"), caption: "DR61000001 pole", captionDrops: ["DR61000001"] });
    const edit = submission({ ...who, messageId, dropNumber: "DR61000002", text: "DR61000001 DR61000002 pole", sentAt: at("10:14") });
    expect((await narrow.agent("POST", "/v1/agent/drops", { submissions: [edit] })).status).toBe(200);
    expect(await fixtures.linksOf(p)).toEqual([
      ["DR61000001", "caption"],
      ["DR61000002", "caption"],
    ]);
  });
});

describe("a drop message edited to name another drop", () => {
  it("links the photos of the message's window to the added drop too, however far the edit is from them", async () => {
    const who = sender(62);
    const messageId = await post(who, ["DR62000001"], at("10:00"));
    const before = await photo(who, at("09:05")); // linked to the first message within the window after it
    const after = await photo(who, at("10:50"));
    expect(await photos.linksOf(before)).toEqual([["DR62000001", "sender_window"]]);
    // Edited at 10:14 to name DR62000002 as well: delivered as a drop message of the same id, at the edit's time —
    // 69 minutes after the first photo, so outside the window around the edit.
    const edit = submission({ ...who, messageId, dropNumber: "DR62000002", text: "DR62000001 DR62000002 done", sentAt: at("10:14") });
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [edit] })).body.results[0].status).toBe("new");
    for (const p of [before, after]) {
      expect(await photos.linksOf(p)).toEqual([
        ["DR62000001", "sender_window"],
        ["DR62000002", "sender_window"],
      ]);
    }
    expect(await photos.relinkAll()).toBe(0);
  });

  it("does the same when the edit is delivered before the message it edits (a catch-up in another order)", async () => {
    const who = sender(63);
    const messageId = `msg-edited-late-${Math.random().toString(36).slice(2)}`;
    const edit = submission({ ...who, messageId, dropNumber: "DR63000002", text: "DR63000001 DR63000002 done", sentAt: at("10:14") });
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [edit] })).status).toBe(200);
    const p = await photo(who, at("11:10")); // the edit is its nearest drop message; 70 minutes after the original
    expect(await photos.linksOf(p)).toEqual([["DR63000002", "sender_window"]]);
    const original = submission({ ...who, messageId, dropNumber: "DR63000001", text: "DR63000001 done", sentAt: at("10:00") });
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [original] })).status).toBe(200);
    expect(await photos.linksOf(p)).toEqual([
      ["DR63000001", "sender_window"],
      ["DR63000002", "sender_window"],
    ]);
    expect(await photos.relinkAll()).toBe(0);
  });
});

describe("links by hand", () => {
  it("a manual link wins over every rule and stays when drop messages arrive; a manual unlink sticks too", async () => {
    const who = sender(30);
    await post(who, ["DR30000001"], at("09:00"));
    await post(sender(31), ["DR30000002"], at("05:00"));
    const p = await photo(who, at("09:05"), { captionDrops: ["DR30000001"] });
    expect(await photos.linksOf(p)).toEqual([["DR30000001", "caption"]]);

    const linked = await edge.dash("PATCH", `/v1/photos/${p}`, { dropNumber: "DR30000002" });
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ id: p, dropNumbers: ["DR30000002"], linkedBy: "manual" });
    expect(await photos.linksOf(p)).toEqual([["DR30000002", "manual"]]);
    await post(who, ["DR30000003"], at("09:04")); // a nearer drop message of the sender
    expect(await photos.linksOf(p)).toEqual([["DR30000002", "manual"]]);

    const unlinked = await edge.dash("PATCH", `/v1/photos/${p}`, { dropNumber: null });
    expect(unlinked.status).toBe(200);
    expect(unlinked.body).toMatchObject({ id: p, dropNumbers: [], linkedBy: null });
    await post(who, ["DR30000004"], at("09:03"));
    expect(await photos.linksOf(p)).toEqual([]);
    expect(await photos.relinkAll()).toBe(0);
    expect(await photos.linksOf(p)).toEqual([]);
  });
});

/** A transaction held open just before its commit until released. */
function holdBeforeCommit() {
  let reached!: () => void;
  let release!: () => void;
  const atCommit = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  return { atCommit, release, beforeCommit: async () => (reached(), released) };
}

/** Drop ingest (the Worker's own function and driver) whose transaction waits before committing until released. */
function heldIngest(items: ReturnType<typeof submission>[]) {
  const cfg = loadConfig(edge.env);
  const db = openDb(cfg);
  const hold = holdBeforeCommit();
  const held = { tx: <T>(fn: (q: Queryable) => Promise<T>) => db.tx(async (q) => { const out = await fn(q); await hold.beforeCommit(); return out; }) };
  const done = ingestSubmissions(held, items as DropSubmission[], cfg.TIMEZONE, cfg.PHOTO_WINDOW_MINUTES).finally(() => db.end());
  return { ...hold, done };
}

/** Resolves once `work` has finished or some backend of this database waits for a lock — whichever comes first. */
async function finishedOrWaiting(work: Promise<unknown>): Promise<void> {
  let finished = false;
  void work.then(() => (finished = true), () => (finished = true));
  for (;;) {
    if (finished) return;
    const [{ n }] = await query(edge.databaseUrl, "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()");
    if (n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a photo and its drop message arriving at the same moment", () => {
  it("link when the drop message's transaction commits while the photo's is under way", async () => {
    const who = sender(50);
    const ingest = heldIngest([submission({ ...who, dropNumber: "DR50000001", sentAt: at("10:00") })]);
    await ingest.atCommit; // its posts are written and its links computed; not committed
    const added = photo(who, at("10:05"));
    await finishedOrWaiting(added);
    ingest.release();
    await ingest.done;
    expect(await photos.linksOf(await added)).toEqual([["DR50000001", "sender_window"]]);
  });

  it("link when the photo's transaction commits while the drop message's is under way", async () => {
    const who = sender(51);
    const hold = holdBeforeCommit();
    const added = photo(who, at("10:05"), {}, hold);
    await hold.atCommit;
    const posted = post(who, ["DR51000001"], at("10:00"));
    await finishedOrWaiting(posted);
    hold.release();
    const id = await added;
    await posted;
    expect(await photos.linksOf(id)).toEqual([["DR51000001", "sender_window"]]);
  });

  it("link by caption when the named drop is created in another group while the photo's transaction is under way", async () => {
    const who = sender(52);
    const hold = holdBeforeCommit();
    const added = photo(who, at("10:05"), { captionDrops: ["DR52000001"] }, hold);
    await hold.atCommit;
    const posted = post(sender(53), ["DR52000001"], at("10:00"), { chatJid: PROJECTS[2]!.groupJid });
    await finishedOrWaiting(posted);
    hold.release();
    const id = await added;
    await posted;
    expect(await photos.linksOf(id)).toEqual([["DR52000001", "caption"]]);
  });

  it("keep one rule per photo when its sender's new drop message and the drop its caption names arrive together", async () => {
    const who = sender(54);
    await post(who, ["DR54000001"], at("09:30"));
    const p = await photo(who, at("10:05"), { captionDrops: ["DR54000009"] });
    expect(await photos.linksOf(p)).toEqual([["DR54000001", "sender_window"]]);
    // The sender's nearer drop message (re-links the photo by the window) and, in another group, the drop the
    // caption names (re-links it by caption): the caption must win, with no window link left beside it.
    const nearer = heldIngest([submission({ ...who, dropNumber: "DR54000002", sentAt: at("10:00") })]);
    await nearer.atCommit;
    const named = post(sender(55), ["DR54000009"], at("10:01"), { chatJid: PROJECTS[3]!.groupJid });
    await finishedOrWaiting(named);
    nearer.release();
    await nearer.done;
    await named;
    expect(await photos.linksOf(p)).toEqual([["DR54000009", "caption"]]);
  });
});

describe("photos and drop messages arriving in parallel", () => {
  it("end with the links a recomputation from scratch gives, whatever the interleaving", async () => {
    // Three senders; each posts drop messages and photos around them. Everything arrives at once: every photo in
    // a transaction of its own (as photo ingest), every drop message in a batch of its own (drop ingest).
    const who = [sender(40), sender(41), sender(42)];
    for (let round = 0; round < 3; round++) {
      const work: Promise<unknown>[] = [];
      who.forEach((w, k) => {
        for (let i = 0; i < 6; i++) {
          const minute = String(10 + i * 7).padStart(2, "0");
          const hour = String(10 + round * 3 + k).padStart(2, "0");
          work.push(post(w, [`DR4${round}${k}${String(i).padStart(5, "0")}`], at(`${hour}:${minute}`)));
          work.push(photo(w, at(`${hour}:${String(10 + i * 7 + 3).padStart(2, "0")}`), i === 5 ? { captionDrops: [`DR4${round}${k}${"0".repeat(5)}`] } : {}));
          work.push(photo(w, at(`${hour}:${String(10 + i * 7 - 2).padStart(2, "0")}`)));
        }
      });
      await Promise.all(work);
      expect(await photos.relinkAll()).toBe(0);
    }
    const [{ n }] = await query(edge.databaseUrl, "SELECT count(*)::int AS n FROM photo_links WHERE drop_number LIKE 'DR4%'");
    expect(n).toBe(3 * 3 * 12);
  });
});
