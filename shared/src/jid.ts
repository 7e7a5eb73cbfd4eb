// WhatsApp addresses (JIDs), as both sides read them: "user[:device]@server". A phone number's JID is
// "27821234567@s.whatsapp.net" (older clients: "@c.us"); a privacy id's is "104857600012345@lid"; one linked device
// of either adds ":device" ("27821234567:12@s.whatsapp.net"). The same person is the same user part, whatever the
// device or the form.

/** The sender the agent names when WhatsApp named none (rare: a group message without a participant). Two such
 * messages are not known to be from one person, so the linking never treats them as the same sender. */
export const UNKNOWN_SENDER = "unknown";

/** The JID without its device part: the address of the account rather than of one of its devices. */
export function normaliseJid(jid: string): string {
  return jid.replace(/:\d+@/, "@");
}

/** The user part without the device ("27821234567", or a LID's number); null when it is not a JID. */
export function jidUser(jid: string | null | undefined): string | null {
  const m = /^([^:@]+)(?::\d+)?@/.exec(jid ?? "");
  return m ? m[1]! : null;
}

/** "+27821234567" from a phone number's JID, device or not; null for a LID, a group or anything else. */
export function phoneFromJid(jid: string | null | undefined): string | null {
  const m = /^(\d{5,20})(?::\d+)?@(s\.whatsapp\.net|c\.us)$/.exec(jid ?? "");
  return m ? `+${m[1]}` : null;
}
