import type { LambdaFunctionURLEvent } from "aws-lambda";
import { makeDeviceApi } from "../../lib/devices/device-api.js";
import { makeHttpApp } from "../../lib/http/app.js";
import type { HttpRequest } from "../../lib/http/types.js";
import { makeCallbackRoute } from "../../lib/ingest/callback-route.js";
import type {
  Clock,
  DeviceStore,
  IngestQueue,
  Journal,
  PreferenceStore,
  PresenceStore,
} from "../../lib/ports/index.js";
import { makePreferencesApi } from "../../lib/preferences/preferences-api.js";
import { withAudienceIndex } from "../../lib/push-api/audience.js";
import type { ServerPushDeps } from "../../lib/push-api/ports.js";
import { makePushApi } from "../../lib/push-api/push-api.js";
import { makeIngestPresence } from "../../lib/routing/presence-change.js";
import { logger, logJournal } from "./powertools.js";

export interface HttpDeps {
  sdkAppId: string;
  callbackToken: () => Promise<string | undefined>;
  userSigKey: () => Promise<string>;
  ingest: IngestQueue;
  devices: DeviceStore;
  presence: PresenceStore;
  preferences: PreferenceStore;
  clock: Clock;
  /** Where presence changes applied at ingest are recorded; default the Lambda log journal. */
  journal?: Journal;
  /** Tencent's REST push API (`/v4/timpush/*`, `/v4/all_member_push/*`); absent = not served. */
  pushApi?: ServerPushDeps & {
    /** The app admin account REST calls must be made as (CHATPUSH_ADMIN_IDENTIFIER). */
    adminIdentifier: string;
    /** timpush/push and im_push calls a day (CHATPUSH_PUSH_DAILY_LIMIT; Tencent's default 100). */
    broadcastsPerDay?: number;
  };
}

/** The structured function URL response (the plain-string form is never used). */
export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function toHttpRequest(event: LambdaFunctionURLEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  const raw = event.body ?? "";
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query,
    headers,
    body: event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw,
  };
}

/** The function URL handler: Tencent's callback and the device API, one function, the same routes locally. */
export function makeHttpHandler(deps: () => HttpDeps) {
  let app: ReturnType<typeof makeHttpApp> | undefined;
  return async (event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> => {
    if (app === undefined) {
      const d = deps();
      app = makeHttpApp(
        [
          makeCallbackRoute({
            sdkAppId: d.sdkAppId,
            callbackToken: d.callbackToken,
            queue: d.ingest,
            clock: d.clock,
            // Presence is written before the answer, so later message callbacks see it.
            atIngest: makeIngestPresence({
              presence: d.presence,
              journal: d.journal ?? logJournal,
              onError: (error) => logger.error("presence at ingest failed; queued instead", { error }),
            }),
          }),
          makeDeviceApi({
            // A registration puts its user in the index a push to all reads (lib/push-api/audience.ts).
            devices: d.pushApi === undefined ? d.devices : withAudienceIndex(d.devices, d.pushApi.audience),
            presence: d.presence,
            clock: d.clock,
            sdkAppId: Number(d.sdkAppId),
            userSigKey: d.userSigKey,
          }),
          makePreferencesApi({
            preferences: d.preferences,
            clock: d.clock,
            sdkAppId: Number(d.sdkAppId),
            userSigKey: d.userSigKey,
          }),
          ...(d.pushApi === undefined
            ? []
            : [
                makePushApi({
                  ...d.pushApi,
                  sdkAppId: Number(d.sdkAppId),
                  userSigKey: d.userSigKey,
                  clock: d.clock,
                  onError: (error, request) =>
                    logger.error("push API request failed", { error, path: request.path }),
                }),
              ]),
        ],
        { onError: (error, request) => logger.error("request failed", { error, path: request.path }) },
      );
    }
    const response = await app(toHttpRequest(event));
    return { statusCode: response.status, headers: response.headers ?? {}, body: response.body };
  };
}
