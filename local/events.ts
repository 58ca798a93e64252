import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as z from "zod/mini";
import { deviceRegistrationSchema, presenceUpdateSchema } from "../lib/devices/device.schema.js";

/**
 * The sample files under events/, shared by replay, tests and the docs:
 * - events/tencent/*.json: a callback as Tencent posts it (query parameters other than SdkAppid,
 *   Sign and RequestTime, which are added when it is sent, plus the body);
 * - events/devices/*.json: a device as the push plugin registers it, with its app state;
 * - events/v4/*.json: a call of Tencent's REST push API as an app server makes it (the path and the
 *   body; the query, with the admin's UserSig, is added when it is sent).
 */

export const callbackSampleSchema = z.object({
  description: z.string(),
  query: z.catchall(z.object({ CallbackCommand: z.string() }), z.string()),
  body: z.record(z.string(), z.unknown()),
});
export type CallbackSample = z.infer<typeof callbackSampleSchema> & { file: string };

export const deviceSampleSchema = z.object({
  description: z.string(),
  userId: z.string(),
  deviceId: z.string(),
  registration: deviceRegistrationSchema,
  presence: z.optional(presenceUpdateSchema),
  /** Receive options the app reports for this user (validated by the preferences API when seeded). */
  preferences: z.optional(
    z.object({
      conversations: z.optional(z.record(z.string(), z.number())),
      all: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
});
export type DeviceSample = z.infer<typeof deviceSampleSchema> & { file: string };

export const restPushSampleSchema = z.object({
  description: z.string(),
  /** Tencent's path, e.g. "/v4/timpush/batch". */
  path: z
    .string()
    .check(z.regex(/^\/v4\/[a-z_]+\/[a-z_]+$/, "path must be a Tencent REST path: /v4/<service>/<command>")),
  body: z.record(z.string(), z.unknown()),
});
export type RestPushSample = z.infer<typeof restPushSampleSchema> & { file: string };

/** JSON files under `path` (or `path` itself), sorted by path so numbered samples replay in order. */
export function jsonFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".json"))
    .map((name) => join(path, name))
    .sort();
}

function load<T>(file: string, schema: z.ZodMiniType<T>): T & { file: string } {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(`${relative(process.cwd(), file)}: ${z.prettifyError(parsed.error)}`);
  }
  return { ...parsed.data, file };
}

export function isDeviceSample(file: string): boolean {
  return file.split(/[\\/]/).includes("devices");
}

export function isRestPushSample(file: string): boolean {
  return file.split(/[\\/]/).includes("v4");
}

export function loadRestPushSample(file: string): RestPushSample {
  return load(file, restPushSampleSchema);
}

export function loadCallbackSample(file: string): CallbackSample {
  return load(file, callbackSampleSchema);
}

export function loadDeviceSample(file: string): DeviceSample {
  return load(file, deviceSampleSchema);
}
