// `npm start`: the whole stack in the foreground — Postgres, the edge under wrangler dev, and the agent on live
// WhatsApp (Baileys) — with prefixed logs; Ctrl-C for a clean shutdown.
import { logger } from "../tools/log.ts";
import { startStack } from "../tools/stack.ts";

const say = logger("start");
let stopping = false;

try {
  const stack = await startStack({ agent: "baileys" });
  say(`ready: edge ${stack.edgeUrl}/health — agent ${stack.agentUrl}/ (QR codes for unpaired sessions)`);
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${why}; shutting down`);
    await stack.stop();
    say("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT", 0));
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  void stack.failed.then((why) => shutdown(why, 1));
} catch (err) {
  say(`could not start: ${(err as Error).message}`);
  process.exit(1);
}
