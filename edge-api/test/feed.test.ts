import { beforeAll, describe, expect, it } from "vitest";
import { FeedResponse, DropDetail, DailyStats } from "@wa-monitor/shared";
import { sqlClient } from "../../tools/test/db.ts";
import { openDb } from "../src/db/client.ts";
import { reviewDrop } from "../src/db/reviews.ts";
import { loadConfig } from "../src/env.ts";
import { edgeHarness, PROJECTS, submission, type Edge } from "./harness.ts";

let edge: Edge;
const [lawley, velo] = [PROJECTS[0]!, PROJECTS[1]!];

beforeAll(async () => {
  edge = await edgeHarness();
  await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS });
  // Times in UTC; Johannesburg is UTC+2. 22:30Z on the 23rd is already the 24th locally.
  const subs = [
    submission({ dropNumber: "DR00000101", messageId: "f1", sentAt: "2026-11-23T06:00:00.000Z", senderName: "Sipho" }),
    submission({ dropNumber: "DR00000102", messageId: "f2", sentAt: "2026-11-23T22:30:00.000Z" }),
    submission({ dropNumber: "DR00000103", messageId: "f3", sentAt: "2026-11-24T07:00:00.000Z", chatJid: velo.groupJid }),
    submission({ dropNumber: "DR00000104", messageId: "f4", sentAt: "2026-11-24T08:00:00.000Z" }),
    submission({ dropNumber: "DR00000105", messageId: "f5", sentAt: "2026-11-24T09:00:00.000Z" }),
  ];
  expect((await edge.agent("POST", "/v1/agent/drops", { submissions: subs })).status).toBe(200);
  // The oldest drop is posted again, by someone else on the backup number: it must surface at the top.
  const resub = submission({
    dropNumber: "DR00000101",
    messageId: "f1-again",
    sentAt: "2026-11-24T10:00:00.000Z",
    senderName: "Lerato",
    senderPhone: "+27831112222",
    session: "backup",
  });
  expect((await edge.agent("POST", "/v1/agent/drops", { submissions: [resub] })).body.results[0].status).toBe("resubmission");
});

describe("GET /v1/drops", () => {
  it("lists newest activity first with resubmissions on top, in the contract's shape", async () => {
    const r = await edge.dash("GET", "/v1/drops");
    expect(r.status).toBe(200);
    const body = FeedResponse.parse(r.body);
    expect(body.items.map((i) => i.dropNumber)).toEqual(["DR00000101", "DR00000105", "DR00000104", "DR00000103", "DR00000102"]);
    expect(body.items[0]).toMatchObject({
      status: "resubmitted",
      resubmitted: true,
      project: lawley.name,
      senderName: "Lerato",
      senderPhone: "+27831112222",
      session: "backup",
      bridge: "backup",
      firstSubmittedAt: "2026-11-23T06:00:00.000Z",
      lastSubmittedAt: "2026-11-24T10:00:00.000Z",
    });
    expect(Object.keys(body.items[0]!.steps)).toHaveLength(12);
    expect(body.nextCursor).toBeNull();
  });

  it("pages with a keyset cursor without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: any = await edge.dash("GET", `/v1/drops?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((i: { dropNumber: string }) => i.dropNumber));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(["DR00000101", "DR00000105", "DR00000104", "DR00000103", "DR00000102"]);
  });

  it("filters by project, status and local calendar day", async () => {
    const byProject = await edge.dash("GET", `/v1/drops?project=${encodeURIComponent(velo.name)}`);
    expect(byProject.body.items.map((i: any) => i.dropNumber)).toEqual(["DR00000103"]);
    const byStatus = await edge.dash("GET", "/v1/drops?status=resubmitted");
    expect(byStatus.body.items.map((i: any) => i.dropNumber)).toEqual(["DR00000101"]);
    // 2026-11-24 in Johannesburg starts at 2026-11-23T22:00Z, so DR00000102 (22:30Z on the 23rd) is in it.
    const day = await edge.dash("GET", "/v1/drops?date=2026-11-24");
    expect(day.body.items.map((i: any) => i.dropNumber)).toEqual(["DR00000101", "DR00000105", "DR00000104", "DR00000103", "DR00000102"]);
    const dayBefore = await edge.dash("GET", "/v1/drops?date=2026-11-23");
    expect(dayBefore.body.items).toEqual([]);
    const unknown = await edge.dash("GET", "/v1/drops?project=Nowhere");
    expect(unknown.body.items).toEqual([]);
  });
});

describe("GET /v1/drops/:dropNumber", () => {
  it("returns the drop with all its submissions in order", async () => {
    const r = await edge.dash("GET", "/v1/drops/DR00000101");
    expect(r.status).toBe(200);
    const d = DropDetail.parse(r.body);
    expect(d.submissions.map((s) => [s.messageId, s.session, s.resubmission])).toEqual([
      ["f1", "primary", false],
      ["f1-again", "backup", true],
    ]);
    expect(d.comment).toBe("Resubmitted 2026-11-24 12:00");
  });
});

/** A QA review made at `at`: the review path with a driven clock. */
async function reviewAt(on: Edge, dropNumber: string, status: "complete" | "incomplete", at: string) {
  const db = openDb(loadConfig(on.env));
  try {
    await reviewDrop(db, dropNumber, { status, reviewer: "QA", steps: {} }, new Date(at));
  } finally {
    await db.end();
  }
}

describe("GET /v1/stats/daily", () => {
  it("counts per local day and project", async () => {
    await reviewAt(edge, "DR00000104", "complete", "2026-11-24T12:00:00Z");
    await reviewAt(edge, "DR00000105", "incomplete", "2026-11-24T12:00:00Z");
    const r = await edge.dash("GET", "/v1/stats/daily?from=2026-11-23&to=2026-11-24");
    expect(r.status).toBe(200);
    expect(DailyStats.parse(r.body).days).toEqual([
      { date: "2026-11-23", project: lawley.name, new: 1, resubmitted: 0, complete: 0, incomplete: 0 },
      { date: "2026-11-24", project: lawley.name, new: 3, resubmitted: 1, complete: 1, incomplete: 1 },
      { date: "2026-11-24", project: velo.name, new: 1, resubmitted: 0, complete: 0, incomplete: 0 },
    ]);
  });

  it("never changes a past day: reviews count on the day they were made, the last of a drop's day decides", async () => {
    const own = await edgeHarness();
    await own.agent("PUT", "/v1/agent/projects", { projects: PROJECTS });
    const post = (dropNumber: string, messageId: string, sentAt: string) =>
      own.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber, messageId, sentAt })] });
    const days = async () => (await own.dash("GET", "/v1/stats/daily?from=2026-11-23&to=2026-11-24")).body.days;
    const row = (date: string, counts: Partial<Record<"new" | "resubmitted" | "complete" | "incomplete", number>>) => ({
      date,
      project: lawley.name,
      ...{ new: 0, resubmitted: 0, complete: 0, incomplete: 0, ...counts },
    });

    // Yesterday (the 23rd, local): posted and reviewed complete.
    await post("DR90000001", "a1", "2026-11-23T07:00:00.000Z");
    await reviewAt(own, "DR90000001", "complete", "2026-11-23T12:00:00Z");
    const yesterday = row("2026-11-23", { new: 1, complete: 1 });
    expect(await days()).toEqual([yesterday]);
    // Today: the installer posts it again and QA finds it incomplete. Yesterday stays as it was.
    await post("DR90000001", "a2", "2026-11-24T07:00:00.000Z");
    await reviewAt(own, "DR90000001", "incomplete", "2026-11-24T09:00:00Z");
    expect(await days()).toEqual([yesterday, row("2026-11-24", { resubmitted: 1, incomplete: 1 })]);

    // Two reviews of one drop on one local day count once, as the last: 23:30Z on the 23rd is 01:30 on the 24th.
    await post("DR90000002", "b1", "2026-11-23T22:15:00.000Z"); // 00:15 on the 24th, local
    await reviewAt(own, "DR90000002", "incomplete", "2026-11-23T23:30:00Z");
    await reviewAt(own, "DR90000002", "complete", "2026-11-24T15:00:00Z");
    expect(await days()).toEqual([yesterday, row("2026-11-24", { new: 1, resubmitted: 1, complete: 1, incomplete: 1 })]);
  });
});
