// Simulated field teams for the demo: installers post finished drops (sometimes several in one message, or again
// later as a resubmission), photos around them — before the drop number, as replies to it, with a step in the
// caption or none, or naming the drop — teammates' photos in the same group, and chat without drop numbers. Both
// of our numbers see every message; all of it goes through the agent's POST /simulate/messages.
import type { QaStepKey } from "@wa-monitor/shared";
import { demoPhoto } from "./demo-photos.ts";
import type { Log } from "./log.ts";

const GROUPS = ["120363418298130331@g.us", "120363421664266245@g.us", "120363421532174586@g.us", "120363408849234743@g.us"];
const INSTALLERS = [
  { jid: "27821234567@s.whatsapp.net", name: "Thabo" },
  { jid: "27837654321@s.whatsapp.net", name: "Lerato" },
  { jid: "27845550123@s.whatsapp.net", name: "Sipho" },
  { jid: "104857600012345@lid", name: "Nomsa" }, // a LID-only sender: no phone number known
];
const CHATTER = ["Morning team 👋", "Truck is at the depot", "Who has the splicing kit?", "Rain delay on Mahlangu St", "Noted, thanks"];
// What installers write under a photo (the edge suggests a step from such words).
const STEP_CAPTIONS: [QaStepKey, string][] = [
  ["house_photo", "house"],
  ["cable_from_pole", "cable from pole"],
  ["cable_entry_outside", "entry outside"],
  ["cable_entry_inside", "entry inside"],
  ["wall_for_installation", "wall"],
  ["ont_back_after_install", "ONT back"],
  ["power_meter_reading", "power meter"],
  ["ont_barcode", "ONT barcode"],
  ["ups_serial", "UPS serial"],
  ["final_installation", "final"],
  ["green_lights", "lights green"],
  ["customer_signature", "signature"],
];

type Installer = (typeof INSTALLERS)[number];
interface Post {
  who: Installer;
  group: string;
  text: string;
  /** A photo of this step (with `text` as its caption, possibly empty). */
  photo?: QaStepKey;
  label?: string;
  quotedId?: string;
  /** Seconds ago it was sent. */
  ago?: number;
}
interface Posted {
  drop: string;
  group: string;
  id: string;
  who: Installer;
}

/** Where the traffic's choices come from: Math.random, or a seeded source in tests. */
export type Random = () => number;

/** What one tick posts: a list of messages in the order they were sent. */
function nextPosts(posted: Posted[], random: Random): Post[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const dropNumber = () => `DR${String(10_000_000 + Math.floor(random() * 89_999_999))}`;
  /** A photo: captioned with its step half of the time. */
  const photoPost = (who: Installer, group: string, label: string, over: Partial<Post> = {}): Post => {
    const [step, caption] = pick(STEP_CAPTIONS);
    return { who, group, text: random() < 0.5 ? caption : "", photo: step, label, ...over };
  };
  const roll = random();
  const who = pick(INSTALLERS);
  const group = pick(GROUPS);
  if (roll < 0.12 && posted.length) {
    const prev = pick(posted);
    return [{ who, group: prev.group, text: `${prev.drop} resubmitted, fixed the ONT barcode photo` }];
  }
  if (roll < 0.24) return [{ who, group, text: pick(CHATTER) }];
  if (roll < 0.32) {
    const [a, b] = [dropNumber(), dropNumber()];
    return [{ who, group, text: `Done today:\n${a}\n${b.toLowerCase().replace("dr", "dr ")}` }];
  }
  if (roll < 0.52 && posted.length) {
    // More photos for a recent drop: a reply to it, a caption naming it, or a teammate's photo in its group.
    const prev = pick(posted.slice(-8));
    const [step, caption] = pick(STEP_CAPTIONS);
    const variant = random();
    if (variant < 0.4) return [{ who: prev.who, group: prev.group, text: caption, photo: step, label: prev.drop, quotedId: prev.id }];
    if (variant < 0.7) return [{ who: prev.who, group: prev.group, text: `${prev.drop} ${caption}`, photo: step, label: prev.drop }];
    // Right after the group's latest drop, so the photo sits nearest to someone else's drop.
    const latest = posted.filter((p) => p.group === prev.group).at(-1)!;
    const mate = pick(INSTALLERS.filter((i) => i !== latest.who));
    return [photoPost(mate, prev.group, "site photo", { text: "" })];
  }
  // A finished drop: a few photos first, then its number.
  const d = dropNumber();
  const photos = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => photoPost(who, group, d, { ago: 30 * (3 - i) }));
  const text = pick([`${d} done ✅`, `${d} installed, all photos posted`, `Completed ${d.replace("DR", "DR-")}`]);
  return [...photos, { who, group, text }];
}

async function message(p: Post, id: string) {
  const base = {
    chatJid: p.group,
    senderJid: p.who.jid,
    senderName: p.who.name,
    text: p.text,
    id,
    ...(p.ago ? { timestamp: Math.floor(Date.now() / 1000) - p.ago } : {}),
    ...(p.quotedId ? { quotedId: p.quotedId } : {}),
  };
  if (!p.photo) return base;
  const data = (await demoPhoto(p.photo, `${p.label ?? ""} · ${p.who.name}`)).toString("base64");
  return { ...base, image: { data, mimetype: "image/jpeg" } };
}

const describe = (p: Post) =>
  (p.photo ? `📷 ${p.text ? `"${p.text}"` : "(no caption)"}${p.quotedId ? " (reply)" : ""}` : p.text).replaceAll("\n", " / ");

/** The simulated teams; each tick posts what they did next. */
export function demoTraffic(agentUrl: string, log: Log, random: Random = Math.random) {
  const posted: Posted[] = [];
  const messageId = () => `3EB0${Math.floor(random() * 2 ** 48).toString(16).toUpperCase().padStart(12, "0")}`;
  const tick = async () => {
    const posts = nextPosts(posted, random);
    try {
      const built = await Promise.all(posts.map(async (p) => ({ p, m: await message(p, messageId()) })));
      // Both capture numbers are in every group, so both see each message.
      const messages = built.flatMap(({ m }) => ["primary", "backup"].map((session) => ({ session, ...m })));
      const res = await fetch(`${agentUrl}/simulate/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      for (const { p, m } of built) {
        for (const drop of p.photo ? [] : (p.text.match(/\bDR[- ]?\d{8}\b/gi) ?? [])) {
          posted.push({ drop: drop.toUpperCase().replace(/[- ]/, ""), group: p.group, id: m.id, who: p.who });
        }
        log(`${p.who.name}: ${describe(p)}`);
      }
    } catch (err) {
      log(`could not post: ${(err as Error).message}`);
    }
  };
  return { tick };
}

export function startDemoTraffic(agentUrl: string, log: Log, everyMs = 4000) {
  const { tick } = demoTraffic(agentUrl, log);
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}
