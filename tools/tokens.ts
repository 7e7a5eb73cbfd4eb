// AGENT_TOKEN and DASHBOARD_TOKEN for local runs: from the environment when set, otherwise generated once and
// kept in the data directory (git-ignored), and printed only when first generated.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

const Tokens = z.object({ AGENT_TOKEN: z.string().min(16), DASHBOARD_TOKEN: z.string().min(16) });
export type Tokens = z.infer<typeof Tokens>;

export async function loadTokens(dataDir: string): Promise<{ tokens: Tokens; generated: (keyof Tokens)[] }> {
  const file = path.join(dataDir, "tokens.json");
  const stored: Partial<Tokens> = existsSync(file) ? Tokens.partial().parse(JSON.parse(await readFile(file, "utf8"))) : {};
  const generated: (keyof Tokens)[] = [];
  const pick = (key: keyof Tokens): string => {
    const fromEnv = process.env[key];
    if (fromEnv) {
      if (fromEnv.length < 16) throw new Error(`${key} from the environment must be at least 16 characters`);
      return fromEnv;
    }
    if (stored[key]) return stored[key];
    generated.push(key);
    return randomBytes(24).toString("base64url");
  };
  const tokens = { AGENT_TOKEN: pick("AGENT_TOKEN"), DASHBOARD_TOKEN: pick("DASHBOARD_TOKEN") };
  if (tokens.AGENT_TOKEN === tokens.DASHBOARD_TOKEN) {
    // The edge refuses this too (every request answers 500 misconfigured); say so before anything starts.
    throw new Error(
      `AGENT_TOKEN and DASHBOARD_TOKEN must differ (one token for both would let the agent's host use the dashboard); ` +
        `set different values in the environment or in ${file}`,
    );
  }
  if (generated.length) {
    const keep = { ...stored };
    for (const k of generated) keep[k] = tokens[k];
    await writeFile(file, JSON.stringify(keep, null, 2) + "\n", { mode: 0o600 });
  }
  return { tokens, generated };
}
