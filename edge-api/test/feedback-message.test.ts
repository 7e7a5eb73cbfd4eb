// The feedback text's mention, for each form the installer's JID arrives in.
import { describe, expect, it } from "vitest";
import { QA_STEP_KEYS, type QaSteps } from "@wa-monitor/shared";
import { composeFeedback } from "../src/feedback/message.ts";

const steps = Object.fromEntries(QA_STEP_KEYS.map((k) => [k, true])) as QaSteps;
const base = { dropNumber: "DR12345678", project: "Lawley", steps };

describe("feedback message", () => {
  it("mentions the installer's account, not the device they posted from", () => {
    const m = composeFeedback({ ...base, installerJid: "27821234567:12@s.whatsapp.net" });
    expect(m.text.startsWith("@27821234567 QA: drop DR12345678 (Lawley) is incomplete.")).toBe(true);
    expect(m.mentions).toEqual(["27821234567@s.whatsapp.net"]);
  });

  it("mentions a LID-only installer by their LID", () => {
    const m = composeFeedback({ ...base, installerJid: "104857600012345:3@lid" });
    expect(m.text.startsWith("@104857600012345 QA:")).toBe(true);
    expect(m.mentions).toEqual(["104857600012345@lid"]);
  });

  it("mentions nobody when the JID is unknown or unreadable", () => {
    for (const installerJid of [null, undefined, "", "unknown"]) {
      const m = composeFeedback({ ...base, installerJid });
      expect(m.text.startsWith("QA: drop DR12345678")).toBe(true);
      expect(m.mentions).toEqual([]);
    }
  });
});
