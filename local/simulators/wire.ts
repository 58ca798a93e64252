/** Small pieces every simulator (and the local HTTP server) needs to read requests as vendors do. */

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The parsed JSON, or the text itself when it is not JSON (recorded as received). */
export function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One base64url part of a JWT as a JSON object, or undefined when it is not one. */
export function decodeJwtPart(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  const value = parseOrRaw(Buffer.from(part, "base64url").toString("utf8"));
  return isObject(value) ? value : undefined;
}

/** The whole body of an HTTP/1.1 request or HTTP/2 stream as UTF-8 text. */
export async function readBody(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
