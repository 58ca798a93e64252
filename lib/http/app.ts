import { errorResponse, type HttpRequest, type HttpResponse, type HttpRoute } from "./types.js";

export interface HttpAppOptions {
  onError?: (error: unknown, request: HttpRequest) => void;
}

/** Tries each route in turn; 404 when none owns the path, 500 (without details) when one throws. */
export function makeHttpApp(routes: readonly HttpRoute[], options: HttpAppOptions = {}) {
  return async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      for (const route of routes) {
        const response = await route(request);
        if (response !== undefined) return response;
      }
      return errorResponse(404, `no route for ${request.method} ${request.path}`);
    } catch (error) {
      options.onError?.(error, request);
      return errorResponse(500, "internal error; the request was not accepted");
    }
  };
}
