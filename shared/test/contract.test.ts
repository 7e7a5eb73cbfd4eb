import { describe, expect, it } from "vitest";
import { DropsIngestRequest, FeedQuery, ProjectsUpsertRequest, QA_STEPS, StatsQuery, missingSteps } from "../src/index.ts";

const sub = {
  messageId: "3EB0ABC",
  chatJid: "120363418298130331@g.us",
  dropNumber: "DR12345678",
  session: "primary",
  senderJid: "27821234567@s.whatsapp.net",
  text: "DR12345678",
  sentAt: "2026-11-24T08:15:00.000Z",
};

describe("contract", () => {
  it("accepts a minimal submission and rejects a lower-case drop number", () => {
    expect(DropsIngestRequest.safeParse({ submissions: [sub] }).success).toBe(true);
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, dropNumber: "dr12345678" }] }).success).toBe(false);
  });

  it("names the session, still accepting the deprecated bridge field, and parses either to session", () => {
    const { session: _, ...old } = sub;
    const parsed = (v: unknown) => DropsIngestRequest.parse({ submissions: [v] }).submissions[0];
    expect(parsed(sub)).toMatchObject({ session: "primary" });
    expect(parsed({ ...old, bridge: "backup" })).toEqual({ ...old, session: "backup" });
    expect(parsed({ ...sub, bridge: "primary" })).toEqual(sub);
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, bridge: "backup" }] }).success).toBe(false);
    expect(DropsIngestRequest.safeParse({ submissions: [old] }).success).toBe(false);
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, session: "Primary" }] }).success).toBe(false);
  });

  it("requires a group JID and a timestamp with an offset", () => {
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, chatJid: "27821234567@s.whatsapp.net" }] }).success).toBe(false);
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, sentAt: "2026-11-24 08:15" }] }).success).toBe(false);
    expect(DropsIngestRequest.safeParse({ submissions: [{ ...sub, sentAt: "2026-11-24T10:15:00+02:00" }] }).success).toBe(true);
  });

  it("defaults and bounds the feed query", () => {
    expect(FeedQuery.parse({})).toEqual({ limit: 50 });
    expect(FeedQuery.safeParse({ limit: "201" }).success).toBe(false);
  });

  it("bounds stats ranges", () => {
    expect(StatsQuery.safeParse({ from: "2026-01-01", to: "2026-12-31" }).success).toBe(true);
    expect(StatsQuery.safeParse({ from: "2026-01-01", to: "2027-01-02" }).success).toBe(false);
  });

  it("flags duplicate projects", () => {
    const p = { name: "Lawley", groupJid: "120363418298130331@g.us", enabled: true };
    const r = ProjectsUpsertRequest.safeParse({ projects: [p, { ...p, name: "Other" }] });
    expect(r.success).toBe(false);
  });

  it("lists the 12 QA steps and what is missing", () => {
    expect(QA_STEPS).toHaveLength(12);
    const steps = Object.fromEntries(QA_STEPS.map((s) => [s.key, true])) as Record<(typeof QA_STEPS)[number]["key"], boolean>;
    steps.ont_barcode = false;
    expect(missingSteps(steps)).toEqual(["ont_barcode"]);
  });
});
