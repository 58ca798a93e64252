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

/** The token of an `Authorization: Bearer …` header (the scheme in any case); undefined without one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer (.+)$/i.exec(authorization ?? "")?.[1];
}

/**
 * Request headers as the delivery log keeps them: names as node gives them (lower-cased), repeated
 * values joined with ", ", and each header named in `redacted` stored as its placeholder instead, so
 * no credential is ever recorded.
 */
export function recordedHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  redacted: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    recorded[name] = Object.hasOwn(redacted, name) ? redacted[name]! : [value].flat().join(", ");
  }
  return recorded;
}

/**
 * A form body as the delivery log keeps it: a plain object of its fields, with `rewrite` applied to
 * the named fields' (first) values: a placeholder for a credential, parsed JSON for JSON text. A
 * rewrite that returns undefined leaves the field as sent.
 */
export function recordedForm(
  form: URLSearchParams,
  rewrite: Readonly<Record<string, (value: string) => unknown>> = {},
): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(form);
  for (const [name, rewriteField] of Object.entries(rewrite)) {
    const value = form.get(name);
    const rewritten = value === null ? undefined : rewriteField(value);
    if (rewritten !== undefined) fields[name] = rewritten;
  }
  return fields;
}
