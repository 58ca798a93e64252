/**
 * The HTTP shape chatpush's routes work with, independent of Lambda function URLs and node:http, so
 * the deployed function and the local runtime serve the very same routes.
 */
export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/devices/phone-1". */
  path: string;
  query: Record<string, string>;
  /** Header names lowercased. */
  headers: Record<string, string>;
  /** Raw body text ("" when none). */
  body: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export type HttpRoute = (request: HttpRequest) => Promise<HttpResponse | undefined>;

export function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** The error body every route uses: `{"error": "...", "field": "..."}`. */
export function errorResponse(status: number, message: string, field?: string): HttpResponse {
  return json(status, field === undefined ? { error: message } : { error: message, field });
}
