import type * as z from "zod/mini";
import { errorResponse, type HttpRequest, type HttpResponse, type HttpRoute, json } from "../http/types.js";
import type { Device } from "../model/index.js";
import type { Clock } from "../ports/clock.js";
import type { DeviceStore, PresenceStore } from "../ports/stores.js";
import { verifyUserSig } from "../tencent/usersig.js";
import {
  badgeUpdateSchema,
  deviceIdSchema,
  deviceRegistrationSchema,
  presenceUpdateSchema,
} from "./device.schema.js";

export interface DeviceApiDeps {
  devices: DeviceStore;
  presence: PresenceStore;
  clock: Clock;
  sdkAppId: number;
  /** The app's UserSig secret key; the caller fetches and caches it. */
  userSigKey: () => Promise<string>;
}

const DEVICE_PATH = /^\/v1\/devices\/([^/]*)$/;
const AUTH_SCHEME = /^UserSig\s+(\S+)\s*$/i;

/**
 * The push plugin's device calls (uploadToken, clearToken, doBackground / doForeground, setBadgeNum)
 * as HTTP. The caller proves who it is with its own IM UserSig, so a user only ever reaches their own
 * devices. Returns undefined for paths it does not own.
 */
export function makeDeviceApi(deps: DeviceApiDeps): HttpRoute {
  return async (request) => {
    const method = request.method.toUpperCase();
    const route = matchRoute(request.path);
    if (route === undefined) return undefined;
    if (!route.methods.includes(method)) return methodNotAllowed(route.methods);

    const auth = await authenticate(request, deps);
    if (!auth.ok) return auth.response;
    const userId = auth.userId;
    const now = deps.clock.now();

    switch (route.kind) {
      case "devices":
        return json(200, { devices: (await deps.devices.list(userId)).map(redactDevice) });

      case "device": {
        const deviceId = parseDeviceId(route.rawDeviceId);
        if (!deviceId.ok) return deviceId.response;
        if (method === "DELETE") {
          const removed = await deps.devices.remove(userId, deviceId.value);
          return removed
            ? noContent()
            : errorResponse(404, `device ${JSON.stringify(deviceId.value)} not found`);
        }
        const body = parseBody(request, deviceRegistrationSchema);
        if (!body.ok) return body.response;
        const device: Device = { userId, deviceId: deviceId.value, ...body.value, updatedAt: now };
        await deps.devices.put(device);
        return json(200, redactDevice(device));
      }

      case "presence": {
        const body = parseBody(request, presenceUpdateSchema);
        if (!body.ok) return body.response;
        await deps.presence.applyAppState(userId, body.value.state, now, body.value.unreadCount);
        return noContent();
      }

      case "badge": {
        const body = parseBody(request, badgeUpdateSchema);
        if (!body.ok) return body.response;
        await deps.presence.setUnreadCount(userId, body.value.unreadCount, now);
        return noContent();
      }
    }
  };
}

/** First 6 and last 4 characters; tokens too short for that are hidden entirely. */
export function redactToken(token: string): string {
  return token.length <= 10 ? "…" : `${token.slice(0, 6)}…${token.slice(-4)}`;
}

/** A device as the API returns it (and as logs may show it): never the full token. */
export function redactDevice(device: Device): Device {
  return { ...device, token: redactToken(device.token) };
}

type Route =
  | { kind: "devices"; methods: readonly string[] }
  | { kind: "device"; methods: readonly string[]; rawDeviceId: string }
  | { kind: "presence"; methods: readonly string[] }
  | { kind: "badge"; methods: readonly string[] };

function matchRoute(path: string): Route | undefined {
  if (path === "/v1/devices") return { kind: "devices", methods: ["GET"] };
  if (path === "/v1/presence") return { kind: "presence", methods: ["PUT"] };
  if (path === "/v1/badge") return { kind: "badge", methods: ["PUT"] };
  const device = DEVICE_PATH.exec(path);
  if (device) return { kind: "device", methods: ["PUT", "DELETE"], rawDeviceId: device[1] ?? "" };
  return undefined;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponse };

async function authenticate(
  request: HttpRequest,
  deps: DeviceApiDeps,
): Promise<{ ok: true; userId: string } | { ok: false; response: HttpResponse }> {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === "") {
    return { ok: false, response: unauthorized('Authorization header is missing; send "UserSig <usersig>"') };
  }
  const match = AUTH_SCHEME.exec(header.trim());
  if (!match?.[1]) {
    return { ok: false, response: unauthorized('Authorization header must be "UserSig <usersig>"') };
  }
  const result = verifyUserSig(match[1], {
    sdkAppId: deps.sdkAppId,
    secretKey: await deps.userSigKey(),
    nowMs: deps.clock.now(),
  });
  if (!result.ok) return { ok: false, response: unauthorized(`UserSig rejected: ${result.error}`) };
  return { ok: true, userId: result.identifier };
}

function parseDeviceId(raw: string): Parsed<string> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, response: errorResponse(400, "deviceId is not valid percent-encoding", "deviceId") };
  }
  const result = deviceIdSchema.safeParse(decoded);
  if (!result.success) {
    return {
      ok: false,
      response: errorResponse(400, result.error.issues[0]?.message ?? "invalid", "deviceId"),
    };
  }
  return { ok: true, value: result.data };
}

function parseBody<S extends z.ZodMiniType>(request: HttpRequest, schema: S): Parsed<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(request.body);
  } catch {
    return { ok: false, response: errorResponse(400, "body is not valid JSON", "body") };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  // Unknown keys are reported on the object itself; name the offending key instead.
  const path =
    issue?.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? []);
  const field = path.map(String).join(".") || "body";
  return { ok: false, response: errorResponse(400, issue?.message ?? "invalid body", field) };
}

function unauthorized(message: string): HttpResponse {
  const response = errorResponse(401, message);
  return { ...response, headers: { ...response.headers, "www-authenticate": "UserSig" } };
}

function methodNotAllowed(methods: readonly string[]): HttpResponse {
  const response = errorResponse(405, `method not allowed; use ${methods.join(" or ")}`);
  return { ...response, headers: { ...response.headers, allow: methods.join(", ") } };
}

function noContent(): HttpResponse {
  return { status: 204, body: "" };
}
