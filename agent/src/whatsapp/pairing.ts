// Pairing by code leaves state behind that outlives its connection: `requestPairingCode` writes `creds.me` (the
// number being paired) and `creds.pairingCode`, and we persist them. Baileys takes `creds.me` for a finished
// pairing: the next socket logs in instead of registering, and buffers events as a paired one. Only a pairing
// that finished has `creds.account` (written on pair-success, by QR and by code alike).
import type { AuthenticationCreds } from "baileys";

export const isPaired = (creds: AuthenticationCreds) => !!creds.account;

/** Clears what an unfinished pairing left in the creds; true if there was anything to clear. */
export function forgetUnfinishedPairing(creds: AuthenticationCreds): boolean {
  if (isPaired(creds) || (!creds.me && !creds.pairingCode && !creds.registered)) return false;
  delete creds.me;
  creds.pairingCode = undefined;
  creds.registered = false;
  return true;
}
