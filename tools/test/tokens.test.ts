// The launcher's tokens: generated once and kept, or taken from the environment — never one value for both.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { startStack } from "../stack.ts";
import { loadTokens } from "../tokens.ts";

const saved = { AGENT_TOKEN: process.env.AGENT_TOKEN, DASHBOARD_TOKEN: process.env.DASHBOARD_TOKEN };

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const tmp = () => mkdtemp(path.join(tmpdir(), "wam-tokens-"));

describe("loadTokens", () => {
  it("generates two different tokens once and keeps them", async () => {
    delete process.env.AGENT_TOKEN;
    delete process.env.DASHBOARD_TOKEN;
    const dir = await tmp();
    const first = await loadTokens(dir);
    expect(first.generated).toEqual(["AGENT_TOKEN", "DASHBOARD_TOKEN"]);
    expect(first.tokens.AGENT_TOKEN).not.toBe(first.tokens.DASHBOARD_TOKEN);
    const again = await loadTokens(dir);
    expect(again).toEqual({ tokens: first.tokens, generated: [] });
  });

  it("refuses equal tokens from the environment, without writing anything", async () => {
    const same = "one-token-for-everything-42";
    process.env.AGENT_TOKEN = same;
    process.env.DASHBOARD_TOKEN = same;
    const dir = await tmp();
    await expect(loadTokens(dir)).rejects.toThrow(/AGENT_TOKEN and DASHBOARD_TOKEN must differ/);
    await expect(readFile(path.join(dir, "tokens.json"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a kept file whose tokens are equal, and never echoes the value", async () => {
    delete process.env.AGENT_TOKEN;
    delete process.env.DASHBOARD_TOKEN;
    const dir = await tmp();
    const same = "edited-by-hand-to-be-equal-1";
    await writeFile(path.join(dir, "tokens.json"), JSON.stringify({ AGENT_TOKEN: same, DASHBOARD_TOKEN: same }));
    const err = await loadTokens(dir).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/must differ/);
    expect(err?.message).not.toContain(same);
  });

  it("stops `npm start` before any part starts", async () => {
    const same = "one-token-for-everything-42";
    process.env.AGENT_TOKEN = same;
    process.env.DASHBOARD_TOKEN = same;
    const dir = await tmp();
    const lines: string[] = [];
    await expect(startStack({ dataDir: dir, agent: false, logger: () => (l) => lines.push(l) })).rejects.toThrow(
      /AGENT_TOKEN and DASHBOARD_TOKEN must differ/,
    );
    expect(existsSync(path.join(dir, "postgres"))).toBe(false);
  });
});
