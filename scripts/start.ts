// `npm start`: the whole stack in the foreground — Postgres, the edge under wrangler dev, and the agent on live
// WhatsApp (Baileys) — with prefixed logs; Ctrl-C for a clean shutdown.
import { holdInForeground } from "../tools/foreground.ts";
import { logger } from "../tools/log.ts";
import { startStack } from "../tools/stack.ts";

const say = logger("start");

try {
  const stack = await startStack({ agent: "baileys" });
  say(`ready: edge ${stack.edgeUrl}/health — agent ${stack.agentUrl}/ (QR codes for unpaired sessions)`);
  holdInForeground(stack, say);
} catch (err) {
  say(`could not start: ${(err as Error).message}`);
  process.exit(1);
}
