// Group metadata for Baileys' `cachedGroupMetadata`: a group message is encrypted for the members this cache
// answers, and Baileys fetches the group itself only when it answers nothing. So member changes are applied as
// they arrive and then refetched, and a group whose send failed is dropped and refetched.
import type { GroupMetadata, GroupParticipant, ParticipantAction } from "baileys";
import type { Logger } from "pino";

const sameMember = (a: GroupParticipant, b: GroupParticipant) =>
  [a.id, a.lid, a.phoneNumber].some((j) => !!j && (j === b.id || j === b.lid || j === b.phoneNumber));

export type GroupCache = ReturnType<typeof createGroupCache>;

export function createGroupCache(log: Logger) {
  const groups = new Map<string, GroupMetadata>();
  // Bumped on every change, so a refetch that started before a change cannot overwrite it with older data.
  const versions = new Map<string, number>();
  const bump = (jid: string) => versions.set(jid, (versions.get(jid) ?? 0) + 1).get(jid)!;
  const set = (group: GroupMetadata) => {
    bump(group.id);
    groups.set(group.id, group);
  };

  return {
    get: (jid: string) => groups.get(jid),
    set,
    update(change: Partial<GroupMetadata>) {
      const known = change.id ? groups.get(change.id) : undefined;
      if (known) set({ ...known, ...change, id: known.id });
    },
    applyParticipants(jid: string, action: ParticipantAction, changed: GroupParticipant[]) {
      const known = groups.get(jid);
      if (!known) return;
      const touched = (p: GroupParticipant) => changed.some((c) => sameMember(p, c));
      let participants = known.participants;
      if (action === "add") participants = [...participants.filter((p) => !touched(p)), ...changed];
      if (action === "remove") participants = participants.filter((p) => !touched(p));
      if (action === "promote") participants = participants.map((p) => (touched(p) ? { ...p, admin: "admin", isAdmin: true } : p));
      if (action === "demote") participants = participants.map((p) => (touched(p) ? { ...p, admin: null, isAdmin: false } : p));
      set({ ...known, participants, size: participants.length });
    },
    invalidate(jid: string) {
      bump(jid);
      groups.delete(jid);
    },
    /** Fetches the group in the background; what it finds replaces the entry unless something changed meanwhile. */
    refresh(jid: string, fetch: (jid: string) => Promise<GroupMetadata>) {
      const version = bump(jid);
      Promise.resolve(jid).then(fetch).then(
        (group) => {
          if (versions.get(jid) === version) groups.set(jid, group);
        },
        (err) => log.warn({ err, group: jid }, "could not refresh group metadata"),
      );
    },
  };
}
