// The photos as the dashboard reads them: beside each drop (GET /v1/drops/:dropNumber), counted in the feed, their
// exact bytes from a real local R2 bucket, their thumbnails, the list of a group's photos, and a reviewer's tag or
// link. Every answer is checked against the OpenAPI document by the harness.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { DropDetail, FeedResponse, PhotoListItem, PhotosResponse } from "@wa-monitor/shared";
import { query } from "../../tools/test/db.ts";
import { DASHBOARD_TOKEN, edgeHarness, LAWLEY, PROJECTS, submission, type Edge } from "./harness.ts";
import { photoFixtures, sender } from "./photo-fixtures.ts";

let edge: Edge;
let photos: ReturnType<typeof photoFixtures>;

const VELO = PROJECTS[1]!.groupJid;
const thabo = sender(1, "Thabo");
const lerato = sender(2, "Lerato");
const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...randomBytes(5000), 0xff, 0xd9]);
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, ...randomBytes(3000)]);
const thumb = Uint8Array.from([0xff, 0xd8, 0xff, 0xdb, ...randomBytes(700), 0xff, 0xd9]);
const ids = {} as Record<"house" | "barcode" | "large" | "both" | "stranger" | "velo", string>;

beforeAll(async () => {
  edge = await edgeHarness();
  photos = photoFixtures(edge);
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
  const post = async (dropNumber: string, sentAt: string, who = thabo, chatJid = LAWLEY) =>
    expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ ...who, chatJid, dropNumber, sentAt })] })).status).toBe(200);
  await post("DR60000001", "2026-11-24T10:00:00.000Z");
  await post("DR60000002", "2026-11-24T06:00:00.000Z", lerato);
  await post("DR60000003", "2026-11-24T07:00:00.000Z", lerato);
  ids.house = await photos.addPhoto({ ...thabo, sentAt: "2026-11-24T10:05:00.000Z", caption: "House", image: { data: jpeg, mimetype: "image/jpeg" }, thumbnail: thumb });
  ids.barcode = await photos.addPhoto({ ...thabo, sentAt: "2026-11-24T10:02:00.000Z", caption: "ONT barcode", image: { data: png, mimetype: "image/png" } });
  ids.large = await photos.addPhoto({ ...thabo, sentAt: "2026-11-24T10:10:00.000Z" });
  ids.both = await photos.addPhoto({ ...thabo, sentAt: "2026-11-24T10:07:00.000Z", caption: "DR60000001 DR60000002", captionDrops: ["DR60000001", "DR60000002"] });
  ids.stranger = await photos.addPhoto({ ...sender(3), sentAt: "2026-11-24T10:06:00.000Z" });
  ids.velo = await photos.addPhoto({ ...sender(4), chatJid: VELO, sentAt: "2026-11-23T09:00:00.000Z", caption: "pole" });
});


describe("GET /v1/drops/:dropNumber", () => {
  it("lists the drop's photos in the order they were sent, each once, with how each is linked", async () => {
    const r = await edge.dash("GET", "/v1/drops/DR60000001");
    expect(r.status).toBe(200);
    const d = DropDetail.parse(r.body);
    expect(d.photos.map((p) => [p.id, p.linkedBy])).toEqual([
      [ids.barcode, "sender_window"],
      [ids.house, "sender_window"],
      [ids.both, "caption"],
      [ids.large, "sender_window"],
    ]);
    const [row] = await query(edge.databaseUrl, "SELECT * FROM photos WHERE id = $1", [ids.house]);
    expect(d.photos[1]).toEqual({
      id: ids.house,
      messageId: row.message_id,
      senderJid: thabo.senderJid,
      senderName: "Thabo",
      sentAt: "2026-11-24T10:05:00.000Z",
      caption: "House",
      mimetype: "image/jpeg",
      bytes: jpeg.length,
      sha256: row.sha256,
      state: "stored",
      linkedBy: "sender_window",
      step: null,
      suggestedStep: "house_photo",
    });
    expect(d.photos[0]!.suggestedStep).toBe("ont_barcode");
    expect(d.photos[3]).toMatchObject({ state: "too_large", sha256: null, mimetype: null, bytes: null, suggestedStep: null });
    expect(d.photoCount).toBe(4);
    // A photo whose caption names two drops is listed with each.
    const other = DropDetail.parse((await edge.dash("GET", "/v1/drops/DR60000002")).body);
    expect(other.photos.map((p) => [p.id, p.linkedBy])).toEqual([[ids.both, "caption"]]);
    expect(DropDetail.parse((await edge.dash("GET", "/v1/drops/DR60000003")).body).photos).toEqual([]);
  });
});

describe("GET /v1/drops", () => {
  it("gives every feed item its photo count, with and without a project filter", async () => {
    for (const q of ["", "?project=Lawley", "?status=new", "?date=2026-11-24"]) {
      const r = await edge.dash("GET", `/v1/drops${q}`);
      expect(r.status).toBe(200);
      const counts = Object.fromEntries(FeedResponse.parse(r.body).items.map((i) => [i.dropNumber, i.photoCount]));
      expect([q, counts]).toEqual([q, { DR60000001: 4, DR60000002: 1, DR60000003: 0 }]);
    }
  });
});

describe("GET /v1/photos/:id", () => {
  it("answers the exact bytes from R2 with their content type, for the browser only", async () => {
    for (const [id, bytes, type] of [
      [ids.house, jpeg, "image/jpeg"],
      [ids.barcode, png, "image/png"],
    ] as const) {
      const r = await edge.dash("GET", `/v1/photos/${id}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(type);
      expect(r.headers.get("cache-control")).toBe("private");
      expect(r.headers.get("content-length")).toBe(String(bytes.length));
      expect(Buffer.from(r.bytes).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it("answers 404 JSON for a photo without bytes, bytes missing from R2, or no such photo; 400 for a bad id", async () => {
    const notFound = async (path: string) => {
      const r = await edge.dash("GET", path);
      expect([path, r.status, r.body.error?.code]).toEqual([path, 404, "not_found"]);
    };
    await notFound(`/v1/photos/${ids.large}`);
    await notFound("/v1/photos/987654321");
    const missing = await photos.addPhoto({ ...thabo, sentAt: "2026-11-20T10:00:00.000Z" });
    await query(edge.databaseUrl, "UPDATE photos SET state = 'stored', sha256 = repeat('a', 64), mimetype = 'image/jpeg', bytes = 9 WHERE id = $1", [missing]);
    await notFound(`/v1/photos/${missing}`);
    await query(edge.databaseUrl, "DELETE FROM photos WHERE id = $1", [missing]);
    for (const bad of ["abc", "0", "-1", "1.5", "99999999999999999999", "9223372036854775808"]) {
      const r = await edge.dash("GET", `/v1/photos/${bad}`);
      expect([bad, r.status, r.body.error?.code]).toEqual([bad, 400, "invalid_request"]);
    }
  });
});

describe("GET /v1/photos/:id/thumbnail", () => {
  it("answers the stored thumbnail as a JPEG, and 404 when the photo has none", async () => {
    const r = await edge.dash("GET", `/v1/photos/${ids.house}/thumbnail`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/jpeg");
    expect(r.headers.get("cache-control")).toBe("private");
    expect(Buffer.from(r.bytes).equals(Buffer.from(thumb))).toBe(true);
    const none = await edge.dash("GET", `/v1/photos/${ids.barcode}/thumbnail`);
    expect([none.status, none.body.error.code]).toEqual([404, "not_found"]);
    expect((await edge.dash("GET", "/v1/photos/987654321/thumbnail")).status).toBe(404);
    expect((await edge.dash("GET", "/v1/photos/x/thumbnail")).status).toBe(400);
  });
});

describe("GET /v1/photos", () => {
  type Items = { id: string }[];
  const list = async (q: string) => {
    const r = await edge.dash("GET", `/v1/photos?${q}`);
    expect([q, r.status]).toEqual([q, 200]);
    return PhotosResponse.parse(r.body);
  };

  it("lists photos newest first with their group and drops, by project, link state and local day", async () => {
    const all = await list("limit=200");
    const sent = await query(edge.databaseUrl, "SELECT id::text AS id FROM photos ORDER BY sent_at DESC, id DESC");
    expect(all.items.map((i) => i.id)).toEqual(sent.map((r) => r.id));
    expect(all.items.find((i) => i.id === ids.both)).toMatchObject({
      project: "Lawley",
      chatJid: LAWLEY,
      dropNumbers: ["DR60000001", "DR60000002"],
      linkedBy: "caption",
    });
    expect((await list("project=Velo%20Test")).items.map((i) => i.id)).toEqual([ids.velo]);
    const unlinked = (await list("project=Lawley&unlinked=true")).items as Items;
    expect(unlinked.map((i) => i.id)).toEqual([ids.stranger]);
    const linked = (await list("project=Lawley&unlinked=false")).items as Items;
    expect(linked.map((i) => i.id).sort()).toEqual([ids.house, ids.barcode, ids.large, ids.both].sort());
    expect((await list("date=2026-11-23")).items.map((i) => i.id)).toEqual([ids.velo]);
    expect((await list("date=2026-11-24&unlinked=true")).items.map((i) => [i.id, i.dropNumbers, i.linkedBy])).toEqual([[ids.stranger, [], null]]);
  });

  it("pages by cursor without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ReturnType<typeof PhotosResponse.parse> = await list(`limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual((await list("limit=200")).items.map((i) => i.id));
  });

  it("refuses a cursor of the right shape but with values no page can end on, naming the cursor, before asking Postgres", async () => {
    const cursorOf = (x: unknown) => btoa(JSON.stringify(x)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (const tuple of [
      ["0000-01-01T00:00:00.000000Z", "1"], // a year Postgres has no timestamp for
      ["2026-11-24T10:00:00.000000Z", "9999999999999999999"], // beyond a bigint
      ["2026-11-24T10:00:00.000000Z", "0"],
      ["2026-11-24T10:00:00.000000Z", "0001"],
    ]) {
      const r = await edge.dash("GET", `/v1/photos?cursor=${cursorOf(tuple)}`);
      expect([tuple, r.status, r.body.error?.code, r.body.error?.details?.[0]?.path]).toEqual([tuple, 400, "invalid_request", ["cursor"]]);
    }
  });

  it("refuses a bad cursor, day, limit or flag with 400", async () => {
    for (const q of ["cursor=nope", "date=2026-13-01", "limit=0", "limit=201", "unlinked=yes"]) {
      const r = await edge.dash("GET", `/v1/photos?${q}`);
      expect([q, r.status, r.body.error.code]).toEqual([q, 400, "invalid_request"]);
    }
  });
});

describe("PATCH /v1/photos/:id", () => {
  const row = async (id: string) =>
    (await query(edge.databaseUrl, "SELECT step, manual_link, manual_drop, updated_at FROM photos WHERE id = $1", [id]))[0];
  const links = async () => query(edge.databaseUrl, "SELECT * FROM photo_links ORDER BY photo_id, drop_number");

  it("tags a photo with a step and clears the tag, answering the photo with its drops", async () => {
    const r = await edge.dash("PATCH", `/v1/photos/${ids.barcode}`, { step: "ont_barcode" });
    expect(r.status).toBe(200);
    expect(PhotoListItem.parse(r.body)).toMatchObject({ id: ids.barcode, step: "ont_barcode", suggestedStep: "ont_barcode", dropNumbers: ["DR60000001"], linkedBy: "sender_window" });
    const d = DropDetail.parse((await edge.dash("GET", "/v1/drops/DR60000001")).body);
    expect(d.photos.find((p) => p.id === ids.barcode)!.step).toBe("ont_barcode");
    expect((await edge.dash("PATCH", `/v1/photos/${ids.barcode}`, { step: null })).body.step).toBeNull();
    expect((await row(ids.barcode)).step).toBeNull();
  });

  it("links a photo to a drop by hand, and a step and a link can come together", async () => {
    const r = await edge.dash("PATCH", `/v1/photos/${ids.stranger}`, { dropNumber: "DR60000003", step: "wall_for_installation" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dropNumbers: ["DR60000003"], linkedBy: "manual", step: "wall_for_installation" });
    const d = DropDetail.parse((await edge.dash("GET", "/v1/drops/DR60000003")).body);
    expect(d.photos.map((p) => [p.id, p.linkedBy, p.step])).toEqual([[ids.stranger, "manual", "wall_for_installation"]]);
    expect(d.photoCount).toBe(1);
  });

  it("changes nothing for a bad step, a bad or unknown drop, an unknown photo or an empty patch", async () => {
    const before = { photo: await row(ids.house), links: await links() };
    const cases: [string, unknown, number, string][] = [
      [ids.house, { step: "roof" }, 400, "invalid_request"],
      [ids.house, { dropNumber: "dr60000001" }, 400, "invalid_request"],
      [ids.house, { dropNumber: "DR69999999", step: "house_photo" }, 404, "not_found"],
      [ids.house, {}, 400, "invalid_request"],
      [ids.house, { step: "house_photo", extra: 1 }, 400, "invalid_request"],
      ["987654321", { step: "house_photo" }, 404, "not_found"],
      ["abc", { step: "house_photo" }, 400, "invalid_request"],
    ];
    for (const [id, body, status, code] of cases) {
      const r = await edge.dash("PATCH", `/v1/photos/${id}`, body);
      expect([id, body, r.status, r.body.error?.code]).toEqual([id, body, status, code]);
    }
    const raw = await edge.call("PATCH", `/v1/photos/${ids.house}`, { rawBody: "{", headers: { "content-type": "application/json" }, token: DASHBOARD_TOKEN });
    expect([raw.status, raw.body.error.code]).toEqual([400, "invalid_json"]);
    expect({ photo: await row(ids.house), links: await links() }).toEqual(before);
  });
});
