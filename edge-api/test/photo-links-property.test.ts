// Links computed as things arrive must equal links recomputed from scratch, whatever arrives in whatever order:
// drop messages (several drops, edits at a later time, resubmissions, the sender under a LID with or without the
// phone), photos (captions and replies naming drops that may not exist yet), and a reviewer's manual links.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { edgeHarness, PROJECTS, submission, type Edge } from "./harness.ts";
import { photoFixtures, sender } from "./photo-fixtures.ts";

let edge: Edge;
let photos: ReturnType<typeof photoFixtures>;
beforeAll(async () => {
  edge = await edgeHarness({ PHOTO_WINDOW_MINUTES: "30" });
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  photos = photoFixtures(edge);
});

const GROUPS = [PROJECTS[0]!.groupJid, PROJECTS[1]!.groupJid];
const minute = fc.integer({ min: 0, max: 80 });
// Mostly one sender in one group, so that posts and photos meet within the window.
const whoIx = fc.constantFrom(0, 0, 0, 1, 2);
const groupIx = fc.constantFrom(0, 0, 0, 1);
const dropIx = fc.integer({ min: 0, max: 5 });
const event = fc.oneof(
  fc.record({ kind: fc.constant("post" as const), who: whoIx, group: groupIx, drops: fc.uniqueArray(dropIx, { minLength: 1, maxLength: 2 }), at: minute, msg: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant("photo" as const), who: whoIx, group: groupIx, at: minute, caption: fc.array(dropIx, { maxLength: 2 }), quoted: fc.array(dropIx, { maxLength: 1 }), ownMsg: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }) }),
  fc.record({ kind: fc.constant("manual" as const), photo: fc.nat(), drop: fc.option(dropIx, { nil: null }) }),
);

let run = 0;
describe("photo links", () => {
  it("as computed on arrival equal a recomputation from scratch, whatever the order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 12 }), async (events) => {
        run += 1;
        const base = 7000 + run * 10;
        // Sender 0 and 1 by phone JID; sender 2 is sender 0 under a LID, with its phone known.
        const who = (i: number) => (i === 2 ? { ...sender(base), senderJid: `1900000${base}@lid` } : sender(base + i));
        const drop = (i: number) => `DR${String(base)}${String(i).padStart(3, "0")}`;
        const at = (m: number) => new Date(Date.parse("2026-11-24T08:00:00.000Z") + m * 60_000).toISOString();
        const msgId = (i: number) => `m-${base}-${i}`;
        const ids: string[] = [];
        for (const e of events) {
          if (e.kind === "post") {
            // The same message id again is an edit or a repost of that message, delivered at its own time.
            const subs = e.drops.map((d) => submission({ ...who(e.who), chatJid: GROUPS[e.group], messageId: msgId(e.msg), dropNumber: drop(d), sentAt: at(e.at), text: "x" }));
            expect((await edge.agent("POST", "/v1/agent/drops", { submissions: subs })).status).toBe(200);
          } else if (e.kind === "photo") {
            ids.push(
              await photos.addPhoto({
                ...who(e.who),
                chatJid: GROUPS[e.group],
                messageId: e.ownMsg === null ? undefined : msgId(e.ownMsg),
                sentAt: at(e.at),
                captionDrops: [...new Set(e.caption.map(drop))],
                quotedDrops: e.quoted.map(drop),
              }).catch((err) => (String(err).includes("answered duplicate") ? "" : Promise.reject(err))),
            );
          } else if (ids.filter(Boolean).length) {
            const live = ids.filter(Boolean);
            const id = live[e.photo % live.length]!;
            const dropNumber = e.drop === null ? null : drop(e.drop);
            const r = await edge.dash("PATCH", `/v1/photos/${id}`, { dropNumber });
            expect([200, 404]).toContain(r.status);
          }
        }
        expect(await photos.relinkAll()).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});
