import { errorResponse, type HttpRoute, json } from "../http/types.js";
import {
  authenticateUser,
  methodNotAllowed,
  noContent,
  parseJsonBody,
  parsePathParam,
} from "../http/usersig-auth.js";
import type { Device } from "../model/index.js";
import type { Clock } from "../ports/clock.js";
import type { DeviceStore, PresenceStore } from "../ports/stores.js";
import {
  badgeUpdateSchema,
  deviceIdSchema,
  deviceRegistrationSchema,
  presenceUpdateSchema,
} from "./device.schema.js";
import { TokenInUseError } from "./token-ownership.js";

export interface DeviceApiDeps {
  devices: DeviceStore;
  presence: PresenceStore;
  clock: Clock;
  sdkAppId: number;
  /** The app's UserSig secret key; the caller fetches and caches it. */
  userSigKey: () => Promise<string>;
}

const DEVICE_PATH = /^\/v1\/devices\/([^/]*)$/;

/**
 * The push plugin's device calls (uploadToken, clearToken, doBackground / doForeground, setBadgeNum)
 * as HTTP. A registration says which platform the device is (`platform`, else what the vendor
 * implies) and its language (`locale`); a presence report may name one device (`deviceId`). The caller proves who it is with its own IM UserSig, so a user only ever reaches their own
 * devices. Returns undefined for paths it does not own.
 */
export function makeDeviceApi(deps: DeviceApiDeps): HttpRoute {
  return async (request) => {
    const method = request.method.toUpperCase();
    const route = matchRoute(request.path);
    if (route === undefined) return undefined;
    if (!route.methods.includes(method)) return methodNotAllowed(route.methods);

    const auth = await authenticateUser(request, deps);
    if (!auth.ok) return auth.response;
    const userId = auth.userId;
    const now = deps.clock.now();

    switch (route.kind) {
      case "devices":
        return json(200, { devices: (await deps.devices.list(userId)).map(redactDevice) });

      case "device": {
        const deviceId = parsePathParam(route.rawDeviceId, deviceIdSchema, "deviceId");
        if (!deviceId.ok) return deviceId.response;
        if (method === "DELETE") {
          // clearToken removes the phone's alert and VoIP registrations; `?pushType=voip` only the
          // PushKit one (the app's pushRegistry(_:didInvalidatePushTokenFor:)).
          const kind = request.query.pushType;
          if (kind !== undefined && kind !== "voip") {
            return errorResponse(400, 'pushType must be "voip" (or absent for the whole device)', "pushType");
          }
          if (kind === "voip") {
            const voip = (await deps.devices.list(userId)).find(
              (d) => d.deviceId === deviceId.value && d.pushType === "voip",
            );
            return voip !== undefined && (await deps.devices.remove(userId, deviceId.value, voip.token))
              ? noContent()
              : errorResponse(
                  404,
                  `no VoIP token registered for device ${JSON.stringify(deviceId.value)}`,
                  "deviceId",
                );
          }
          const removed = await deps.devices.remove(userId, deviceId.value);
          return removed
            ? noContent()
            : errorResponse(404, `device ${JSON.stringify(deviceId.value)} not found`, "deviceId");
        }
        const body = parseJsonBody(request, deviceRegistrationSchema);
        if (!body.ok) return body.response;
        const device: Device = { userId, deviceId: deviceId.value, ...body.value, updatedAt: now };
        try {
          await deps.devices.put(device);
        } catch (error) {
          // Another account's current registration holds the token: it keeps it (token-ownership.ts).
          if (error instanceof TokenInUseError) return errorResponse(409, error.message, "token");
          throw error;
        }
        return json(200, redactDevice(device));
      }

      case "presence": {
        const body = parseJsonBody(request, presenceUpdateSchema);
        if (!body.ok) return body.response;
        const { state, unreadCount, deviceId } = body.value;
        const applied = await deps.presence.applyAppState(userId, state, now, unreadCount, deviceId);
        return applied
          ? noContent()
          : errorResponse(404, `device ${JSON.stringify(deviceId)} not found`, "deviceId");
      }

      case "badge": {
        const body = parseJsonBody(request, badgeUpdateSchema);
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
