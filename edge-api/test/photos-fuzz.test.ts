// Whatever a client sends to the photo routes, the answer is JSON below 500 with an error code when refused, and a
// refused request changes nothing: not the photos, their links, nor R2.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { query } from "../../tools/test/db.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, edgeHarness, LAWLEY, PROJECTS, submission, type Edge } from "./harness.ts";
import { photoFixtures, sender } from "./photo-fixtures.ts";

let edge: Edge;
let photoId: string;
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
const JPEG_SHA = createHash("sha256").update(JPEG).digest("hex");

beforeAll(async () => {
  edge = await edgeHarness();
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ ...sender(1), dropNumber: "DR70000001", sentAt: "2026-11-24T10:00:00.000Z" })] })).status).toBe(200);
  photoId = await photoFixtures(edge).addPhoto({ ...sender(1), sentAt: "2026-11-24T10:05:00.000Z", image: { data: JPEG, mimetype: "image/jpeg" } });
});

/** What a refused request must leave as it was. */
async function fingerprint() {
  const [row] = await query(
    edge.databaseUrl,
    `SELECT (SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY id), '')) FROM photos p) AS photos,
            (SELECT md5(coalesce(string_agg(l::text, ',' ORDER BY photo_id, drop_number), '')) FROM photo_links l) AS links`,
  );
  const objects = (await edge.env.PHOTOS.list({ prefix: "photos/" })).objects.map((o) => o.key).sort();
  return { ...row, objects };
}

function expectRefusalShape(what: string, r: { status: number; body: any }) {
  expect(r.status, `${what} -> ${r.status} ${JSON.stringify(r.body)}`).toBeLessThan(500);
  if (r.status >= 400) expect(typeof r.body?.error?.code, `${what} -> ${JSON.stringify(r.body)}`).toBe("string");
}

const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 }), fc.array(fc.anything(), { maxLength: 3 }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, junk);
const timestamp = fc.oneof(
  fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("2026-02-30T10:00:00Z", "2026-11-24T10:00:00.123456789Z", "2026-11-24T10:00:00+14:00", "2099-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "yesterday"),
);
const dropNumber = fc.oneof(fc.stringMatching(/^DR7000000[0-9]$/), fc.string({ maxLength: 45 }));

describe("fuzzing the photo routes", () => {
  it("never answers 5xx to GET /v1/photos queries", async () => {
    const cursorOf = (x: unknown) => btoa(JSON.stringify(x)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const cursor = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.tuple(maybe(timestamp), maybe(fc.oneof(fc.bigInt({ min: -1n, max: 10n ** 20n }).map(String), fc.string({ maxLength: 22 })))).map(cursorOf),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            project: fc.oneof(fc.constantFrom("Lawley", "Velo Test", "Nope", "\u0000", "%"), fc.string({ maxLength: 110 })),
            unlinked: fc.oneof(fc.constantFrom("true", "false"), fc.string({ maxLength: 5 })),
            date: fc.oneof(fc.constantFrom("2026-11-24", "2026-02-30", "2024-02-29", "1999-12-31", "2026-13-01"), fc.string({ maxLength: 12 })),
            limit: fc.oneof(fc.constantFrom("0", "1", "200", "201", "1e2", "0x10", "", "-1", "99999999999999999999"), fc.string({ maxLength: 6 })),
            cursor,
          },
          { requiredKeys: [] },
        ),
        async (q) => {
          const path = `/v1/photos?${new URLSearchParams(q as Record<string, string>)}`;
          expectRefusalShape(path, await edge.call("GET", path, { token: DASHBOARD_TOKEN }));
        },
      ),
      { numRuns: 120 },
    );
  });

  it("never answers 5xx to PATCH /v1/photos/:id, and a refused one changes nothing", async () => {
    const body = fc.oneof(
      fc.anything(),
      fc.record({ step: maybe(fc.constantFrom("house_photo", "ont_barcode", null, "roof", "__proto__")), dropNumber: maybe(fc.oneof(dropNumber, fc.constant(null))), extra: junk }, { requiredKeys: [] }),
    );
    const id = fc.oneof(fc.constant("PHOTO"), fc.constantFrom("0", "-1", "1.5", "9223372036854775807", "999999999999999999", "00001"), fc.string({ maxLength: 22 }));
    await fc.assert(
      fc.asyncProperty(id, body, async (rawId, b) => {
        const path = `/v1/photos/${encodeURIComponent(rawId === "PHOTO" ? photoId : rawId)}`;
        const before = await fingerprint();
        const r = await edge.call("PATCH", path, { token: DASHBOARD_TOKEN, json: b });
        expectRefusalShape(`PATCH ${path} ${JSON.stringify(b)}`, r);
        if (r.status !== 200) expect(await fingerprint()).toEqual(before);
      }),
      { numRuns: 120 },
    );
  });

  it("never answers 5xx to photo records, and a refused batch changes nothing", async () => {
    const record = fc.record(
      {
        chatJid: maybe(fc.constantFrom(LAWLEY, PROJECTS[1]!.groupJid, "120363000000000099@g.us")),
        messageId: maybe(fc.constantFrom("m1", "m2", "m3")),
        session: maybe(fc.constantFrom("primary", "backup")),
        senderJid: maybe(fc.constantFrom("27820000001@s.whatsapp.net", "27820000002@s.whatsapp.net")),
        senderPhone: maybe(fc.constantFrom("+27820000001", null)),
        sentAt: maybe(timestamp),
        kind: maybe(fc.constantFrom("image", "document")),
        state: maybe(fc.constantFrom("stored", "too_large", "unsupported", "failed", "skipped")),
        sha256: maybe(fc.constantFrom(JPEG_SHA, "b".repeat(64), null)),
        mimetype: maybe(fc.constantFrom("image/jpeg", "image/png", null)),
        bytes: maybe(fc.oneof(fc.constant(JPEG.length), fc.integer(), fc.constant(null))),
        width: maybe(fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(null))),
        height: maybe(fc.oneof(fc.integer({ min: 0 }), fc.constant(null))),
        caption: maybe(fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null))),
        quotedId: maybe(fc.oneof(fc.constantFrom("m1", "q"), fc.constant(null))),
        captionDrops: maybe(fc.array(dropNumber, { maxLength: 21 })),
        quotedDrops: maybe(fc.array(dropNumber, { maxLength: 21 })),
        thumbnail: maybe(fc.oneof(fc.constantFrom("", "/9j/", "_-8", "AAAA"), fc.constant(null))),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.record({ photos: fc.array(record, { maxLength: 4 }) })), async (body) => {
        const before = await fingerprint();
        const r = await edge.call("POST", "/v1/agent/photos", { token: AGENT_TOKEN, json: body });
        expectRefusalShape(`POST ${JSON.stringify(body)}`, r);
        if (r.status !== 200) expect(await fingerprint()).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });
});
