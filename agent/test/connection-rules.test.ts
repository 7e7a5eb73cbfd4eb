import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/sync/backoff.ts";
import { decideOnClose } from "../src/whatsapp/connection-rules.ts";

const ctx = { attempt: 0, triedLatestVersion: false, backoff: { initialMs: 1000, maxMs: 60_000 }, random: () => 0.5 };

describe("connection rules", () => {
  it.each([401, 403, 419])("%i: logged out, no reconnect", (code) => {
    expect(decideOnClose(code, ctx).action).toBe("logged_out");
  });
  it("515 after pairing: new socket at once", () => expect(decideOnClose(515, ctx).action).toBe("restart"));
  it("440 replaced: stop, never fight the other client", () => expect(decideOnClose(440, ctx).action).toBe("stop"));
  it("405: try the latest WA Web version once, then fail", () => {
    expect(decideOnClose(405, ctx).action).toBe("update_version");
    expect(decideOnClose(405, { ...ctx, triedLatestVersion: true }).action).toBe("failed");
  });
  it.each([408, 428, 500, 503, 411, undefined])("%s: reconnect with backoff", (code) => {
    const d = decideOnClose(code, ctx);
    expect(d.action).toBe("reconnect");
  });
  it("backs off exponentially with jitter, capped", () => {
    const delays = [0, 1, 2, 3].map((attempt) => (decideOnClose(428, { ...ctx, attempt }) as { delayMs: number }).delayMs);
    expect(delays).toEqual([750, 1500, 3000, 6000]);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(50, 1000, 60_000);
      expect(d).toBeGreaterThanOrEqual(30_000);
      expect(d).toBeLessThanOrEqual(60_000);
    }
  });
});
