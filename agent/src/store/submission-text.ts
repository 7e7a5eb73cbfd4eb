// The text the agent keeps and submits: at most the contract's limit, so a very long message still delivers its
// drops (they are detected on the full text first). The cut never splits a UTF-16 surrogate pair, which would
// leave half a character behind.
import { SUBMISSION_TEXT_MAX } from "@wa-monitor/shared";

export function fitSubmissionText(text: string, max = SUBMISSION_TEXT_MAX): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
