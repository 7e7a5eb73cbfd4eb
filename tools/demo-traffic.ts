// Simulated field teams for the demo: installers post finished drops (sometimes several in one message, with
// photos' captions, or again later as a resubmission), chat without drop numbers, and both of our numbers see
// every message — all through the agent's POST /simulate/messages.
import type { Log } from "./log.ts";

const GROUPS = ["120363418298130331@g.us", "120363421664266245@g.us", "120363421532174586@g.us", "120363408849234743@g.us"];
const INSTALLERS = [
  { jid: "27821234567@s.whatsapp.net", name: "Thabo" },
  { jid: "27837654321@s.whatsapp.net", name: "Lerato" },
  { jid: "27845550123@s.whatsapp.net", name: "Sipho" },
  { jid: "104857600012345@lid", name: "Nomsa" }, // a LID-only sender: no phone number known
];
const CHATTER = ["Morning team 👋", "Truck is at the depot", "Who has the splicing kit?", "Rain delay on Mahlangu St", "Noted, thanks"];

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const dropNumber = () => `DR${String(10_000_000 + Math.floor(Math.random() * 89_999_999))}`;
const messageId = () => `3EB0${Math.random().toString(16).slice(2, 14).toUpperCase()}`;

export function startDemoTraffic(agentUrl: string, log: Log, everyMs = 4000) {
  const posted: { drop: string; group: string }[] = [];
  const tick = async () => {
    const roll = Math.random();
    const who = pick(INSTALLERS);
    let group = pick(GROUPS);
    let text: string;
    if (roll < 0.15 && posted.length) {
      const prev = pick(posted);
      group = prev.group;
      text = `${prev.drop} resubmitted, fixed the ONT barcode photo`;
    } else if (roll < 0.3) {
      text = pick(CHATTER);
    } else if (roll < 0.4) {
      const [a, b] = [dropNumber(), dropNumber()];
      posted.push({ drop: a, group }, { drop: b, group });
      text = `Done today:\n${a}\n${b.toLowerCase().replace("dr", "dr ")}`;
    } else {
      const d = dropNumber();
      posted.push({ drop: d, group });
      text = pick([`${d} done ✅`, `${d} installed, all photos posted`, `Completed ${d.replace("DR", "DR-")}`]);
    }
    const id = messageId();
    // Both capture numbers are in every group, so both see the message.
    const messages = ["primary", "backup"].map((session) => ({ session, chatJid: group, senderJid: who.jid, senderName: who.name, text, id }));
    try {
      const res = await fetch(`${agentUrl}/simulate/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages }),
      });
      await res.body?.cancel();
      log(`${who.name}: ${text.replaceAll("\n", " / ")}`);
    } catch (err) {
      log(`could not post: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}
