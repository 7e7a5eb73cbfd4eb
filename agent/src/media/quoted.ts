// The text of the message an image replies to, for the drops it names (a photo replying to a drop message, or to
// our own feedback naming the drop, belongs to that drop). WhatsApp puts the quoted content in the reply itself
// (contextInfo.quotedMessage); when it did not, the quoted message may be in our store.
import { normalizeMessageContent, type proto } from "baileys";
import { textOf } from "../detect/extract.ts";
import type { Db } from "../store/db.ts";
import { messageReader } from "../store/messages.ts";

function quotedMessageOf(message: proto.IMessage | null | undefined): proto.IMessage | null {
  const content = normalizeMessageContent(message);
  const media = content?.imageMessage ?? content?.documentMessage;
  return media?.contextInfo?.quotedMessage ?? null;
}

export function quotedTextReader(db: Db) {
  const read = messageReader(db);
  const storedText = db.prepare<[string, string], { text: string }>(
    "SELECT text FROM messages WHERE chat_jid = ? AND message_id = ? AND text IS NOT NULL LIMIT 1",
  );
  return (image: { chatJid: string; messageId: string; quotedId: string | null }): string | null => {
    if (!image.quotedId) return null;
    const quoted = quotedMessageOf(read(image.chatJid, image.messageId)?.message);
    const inReply = quoted ? textOf(normalizeMessageContent(quoted)) : null;
    return inReply ?? storedText.get(image.chatJid, image.quotedId)?.text ?? null;
  };
}
