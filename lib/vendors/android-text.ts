/**
 * Text helpers shared by the Android vendors' message builders (Huawei, Honor, Xiaomi, OPPO, vivo,
 * Meizu): their limits are counted in UTF-16 units (Tencent's offline-push docs, tencent-chat.md §4.4).
 */

const ELLIPSIS = "…";

/** At most `maxUnits` UTF-16 units, cut on a code-point boundary and marked with "…" when cut. */
export function fitText(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  let end = 0;
  for (const codePoint of text) {
    if (end + codePoint.length > maxUnits - ELLIPSIS.length) break;
    end += codePoint.length;
  }
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

/**
 * A stable positive 31-bit notification id per conversation (FNV-1a), for vendors that replace a
 * shown notification by an integer id (Xiaomi notify_id, OPPO notify_id, vivo notifyId): one
 * notification per conversation, as APNs' collapse id and FCM's tag do.
 */
export function conversationNotifyId(conversationId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(conversationId, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff || 1;
}

/**
 * The click intent URI with the notification's `ext` added as the string extra `ext`
 * (`S.ext=<url-encoded>;`), which the push plugin reads to open the conversation.
 */
export function intentWithExt(intentUri: string, ext: string): string {
  const end = intentUri.lastIndexOf(";end");
  const extra = `S.ext=${encodeURIComponent(ext)};`;
  if (end < 0) return `${intentUri}#Intent;${extra}end`;
  return `${intentUri.slice(0, end + 1)}${extra}end`;
}
