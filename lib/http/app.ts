import { MAX_CALLBACK_BODY_BYTES, utf8Bytes } from "./json.js";
import { errorResponse, type HttpRequest, type HttpResponse, type HttpRoute } from "./types.js";

export interface HttpAppOptions {
  onError?: (error: unknown, request: HttpRequest) => void;
  /** Larger bodies are answered 413 before any route sees them. Default MAX_CALLBACK_BODY_BYTES. */
  maxBodyBytes?: number;
}

/**
 * Tries each route in turn; 413 when the body is too large for any of them, 404 when no route owns
 * the path, 500 (without details) when one throws.
 */
export function makeHttpApp(routes: readonly HttpRoute[], options: HttpAppOptions = {}) {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_CALLBACK_BODY_BYTES;
  return async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      if (request.body.length > maxBodyBytes || utf8Bytes(request.body) > maxBodyBytes) {
        return errorResponse(413, `body is larger than ${maxBodyBytes} bytes`, "body");
      }
      for (const route of routes) {
        const response = await route(request);
        if (response !== undefined) return response;
      }
      return errorResponse(404, `no route for ${request.method} ${request.path}`, "path");
    } catch (error) {
      options.onError?.(error, request);
      return errorResponse(500, "internal error; the request was not accepted");
    }
  };
}
