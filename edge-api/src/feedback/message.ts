// The text QA feedback is posted with: the drop, what is missing by label, the reviewer's comment, and a
// mention of the installer who posted it when their JID is known.
import { jidUser, missingSteps, normaliseJid, qaStepLabel, type QaSteps } from "@wa-monitor/shared";

export interface FeedbackMessage {
  text: string;
  mentions: string[];
}

export function composeFeedback(input: {
  dropNumber: string;
  project: string;
  steps: QaSteps;
  comment?: string | null | undefined;
  installerJid?: string | null | undefined;
}): FeedbackMessage {
  const missing = missingSteps(input.steps).map(qaStepLabel);
  const user = jidUser(input.installerJid);
  const lines = [
    `${user ? `@${user} ` : ""}QA: drop ${input.dropNumber} (${input.project}) is incomplete.`,
    missing.length ? `Missing: ${missing.join(", ")}.` : null,
    input.comment ? `Comment: ${input.comment}` : null,
    "Please post the missing photos and resubmit the drop number.",
  ];
  return {
    text: lines.filter((l): l is string => l !== null).join("\n"),
    mentions: user && input.installerJid ? [normaliseJid(input.installerJid)] : [],
  };
}
