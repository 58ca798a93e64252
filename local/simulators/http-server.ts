import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SimulatorHub } from "./hub.js";

/**
 * Vendors' front ends (Google's, Huawei's and the rest) keep idle connections open far longer than
 * node's default 5 s, which would close pooled sockets between two sends of a test and hide whether the
 * client reuses them.
 */
const KEEP_ALIVE_MS = 60_000;

/** The JSON content type most simulators answer with (FCM and Tencent REST spell theirs differently). */
const JSON_CONTENT_TYPE = "application/json;charset=UTF-8";

export interface SimulatorServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: number;
}

/** What every vendor simulator is started with. */
export interface SimulatorOptions extends SimulatorServerOptions {
  hub: SimulatorHub;
}

export interface SimulatorServer {
  /** Plain-HTTP base URL, e.g. "http://127.0.0.1:43210". */
  url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Stops listening and drops every connection, idle ones included. */
  close(): Promise<void>;
}

/**
 * Starts a plain HTTP/1.1 keep-alive server for one simulator. A request whose `route` throws (as when
 * the client resets it while its body is read) is destroyed: there is no one left to answer.
 */
export async function startSimulatorServer(
  opts: SimulatorServerOptions,
  route: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<SimulatorServer> {
  const host = opts.host ?? "127.0.0.1";
  let connections = 0;
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => {
    route(request, response).catch(() => response.destroy());
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });

  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep idle sockets open (as they should); close() would wait for them otherwise.
      server.closeAllConnections();
      await closed;
    },
  };
}

/** An answer before it is written: its HTTP status, its body and any headers besides the content type. */
export interface JsonAnswer<Body = unknown> {
  httpStatus: number;
  body: Body;
  headers?: Record<string, string>;
}

/** Writes `body` as JSON; `headers` add to (or, for content-type, replace) the JSON content type. */
export function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { "content-type": JSON_CONTENT_TYPE, ...headers });
  response.end(JSON.stringify(body));
}
