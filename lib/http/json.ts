/**
 * JSON as it arrives from outside: bounded in size and in nesting before it is parsed, so no body can
 * make anything downstream (schemas, JSON.stringify, the idempotency layer's hashing, the queue)
 * recurse past the stack or exceed a queue's message size after it was answered OK.
 */

/**
 * SQS takes messages of up to 1 MiB (1,048,576 bytes; "Amazon SQS message quotas",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 * The queued envelope adds the command, the acceptance time and the platform, and re-serialising can
 * grow a body (`1e9` becomes `1000000000`), so a body may use at most 960 KiB and the envelope is
 * checked again before it is queued (MAX_QUEUED_BYTES).
 */
export const MAX_CALLBACK_BODY_BYTES = 960 * 1024;
export const MAX_QUEUED_BYTES = 1024 * 1024 - 8 * 1024;

/** The device and preferences APIs take bodies of a few hundred bytes. */
export const MAX_API_BODY_BYTES = 16 * 1024;

/**
 * Tencent's callbacks nest five or six levels (body → MsgBody[] → element → MsgContent → …, a
 * merged-forward message a few more); 64 is far beyond any of them and far below any recursion limit.
 */
export const MAX_JSON_DEPTH = 64;

export type JsonParse =
  | { ok: true; value: unknown }
  | { ok: false; status: 400 | 413; error: string; field: string };

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** How deeply `text` nests arrays and objects, scanning once without recursion; stops past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth -= 1;
  }
  return deepest;
}

/** Parses a request body within the size and nesting limits; the error names "body". */
export function parseBoundedJson(text: string, limits: { maxBytes: number; maxDepth?: number }): JsonParse {
  // Cheap first: a string can only be longer in bytes than in UTF-16 units.
  if (text.length > limits.maxBytes || utf8Bytes(text) > limits.maxBytes) {
    return { ok: false, status: 413, error: `body is larger than ${limits.maxBytes} bytes`, field: "body" };
  }
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  if (jsonDepth(text, maxDepth) > maxDepth) {
    return { ok: false, status: 400, error: `body nests deeper than ${maxDepth} levels`, field: "body" };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, error: "body is not valid JSON", field: "body" };
  }
}
