import { en } from "zod/locales";
import * as z from "zod/mini";
import { DEVICE_PLATFORMS, platformOf, VENDORS } from "../model/index.js";
import { isReservedKey } from "../tencent/ids.js";

// zod/mini registers no locale, so every built-in message would read "Invalid input". Classic zod
// registers English on first use unless a locale is already set; do the same. (`en` comes from
// "zod/locales", not `z.locales.en`: the namespace would put every locale in the bundle.)
if (!z.config().localeError) z.config(en());

/**
 * Request bodies of the device API, mirroring the push plugin's calls: uploadToken, doBackground /
 * doForeground, setBadgeNum. Objects are strict so a misspelt key is a 400, not a silent default.
 */

export const deviceIdSchema = z.string().check(
  z.minLength(1, "deviceId must not be empty"),
  z.maxLength(128, "deviceId must be at most 128 characters"),
  z.regex(/^[A-Za-z0-9._:-]+$/, "deviceId may only contain A-Z a-z 0-9 . _ : -"),
  // `__proto__`, `constructor`, … would address the prototype of the devices map, not an entry.
  z.refine((id) => !isReservedKey(id), "deviceId must not be a reserved name such as __proto__"),
);

const APNS_TOKEN = /^[0-9A-Fa-f]{64,200}$/;
/** A BCP 47 tag's shape: a 2–3 letter language, then subtags ("zh-Hant-TW"; "zh_CN" as Android writes it). */
const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;

/** "x is required" when absent, `invalid` otherwise: the client learns which mistake it made. */
function expected(field: string, invalid: string) {
  return {
    error: (issue: { input?: unknown }) => (issue.input === undefined ? `${field} is required` : invalid),
  };
}

/** The body-level messages: not an object, or a key the schema does not know (usually a typo). */
const bodyErrors = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys"
      ? `unknown field ${(issue.keys ?? []).map((key) => JSON.stringify(key)).join(", ")}`
      : "body must be a JSON object",
};

/** uploadToken: `PUT /v1/devices/{deviceId}`. */
export const deviceRegistrationSchema = z.pipe(
  z
    .strictObject(
      {
        vendor: z.enum(VENDORS, expected("vendor", `vendor must be one of ${VENDORS.join(", ")}`)),
        token: z
          .string(expected("token", "token must be a string"))
          .check(
            z.minLength(1, "token must not be empty"),
            z.maxLength(4096, "token must be at most 4096 characters"),
          ),
        certificateId: z.optional(
          z
            .int({ error: "certificateId must be an integer" })
            .check(z.positive("certificateId must be a positive integer")),
        ),
        appId: z.optional(
          z
            .string({ error: "appId must be a string" })
            .check(
              z.minLength(1, "appId must not be empty"),
              z.maxLength(255, "appId must be at most 255 characters"),
            ),
        ),
        environment: z.optional(
          z.enum(["sandbox", "production"], { error: 'environment must be "sandbox" or "production"' }),
        ),
        // "voip": the phone's PushKit token (apns only), stored beside its alert token under the same
        // deviceId and used for call invitations only (lib/model/device.ts registrationKey).
        pushType: z.optional(z.enum(["voip"], { error: 'pushType must be "voip" (or absent for alerts)' })),
        // The platform Tencent's multi-device rules see (an iPad logs in as `iPad`, not `iOS`);
        // absent = what the vendor implies (apns → iOS, the others → Android).
        platform: z.optional(
          z.enum(DEVICE_PLATFORMS, { error: `platform must be one of ${DEVICE_PLATFORMS.join(", ")}` }),
        ),
        // The language the app runs in (BCP 47, e.g. "zh-CN", "en"): picks the notification texts.
        locale: z.optional(
          z
            .string({ error: "locale must be a string" })
            .check(
              z.maxLength(35, "locale must be at most 35 characters"),
              z.regex(LOCALE, 'locale must be a BCP 47 language tag such as "zh-CN" or "en"'),
            ),
        ),
      },
      bodyErrors,
    )
    .check(
      z.superRefine((body, ctx) => {
        if (body.vendor === "apns" && !APNS_TOKEN.test(body.token)) {
          ctx.addIssue({
            code: "custom",
            path: ["token"],
            message: "an APNs token must be 64 to 200 hexadecimal characters",
          });
        }
        if (body.platform !== undefined && (body.vendor === "apns") !== (body.platform !== "Android")) {
          ctx.addIssue({
            code: "custom",
            path: ["platform"],
            message:
              body.vendor === "apns"
                ? 'an apns device is "iOS" or "iPad"'
                : `a ${body.vendor} device is "Android"`,
          });
        }
        if (body.vendor !== "apns" && body.pushType !== undefined) {
          // PushKit is Apple's; Android call pushes are FCM data messages on the normal token (§2).
          ctx.addIssue({ code: "custom", path: ["pushType"], message: "pushType is only valid for apns" });
        }
        if (body.vendor !== "apns" && body.environment !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["environment"],
            message: "environment is only valid for apns",
          });
        }
      }),
    ),
  z.transform(({ environment, ...registered }) => {
    const body = { ...registered, platform: platformOf(registered) };
    return body.vendor === "apns"
      ? // APNs tokens are hex and case-insensitive; one spelling keeps token ownership checks exact.
        { ...body, token: body.token.toLowerCase(), environment: environment ?? "production" }
      : body;
  }),
);
export type DeviceRegistrationInput = z.input<typeof deviceRegistrationSchema>;
export type DeviceRegistration = z.output<typeof deviceRegistrationSchema>;

const unreadCount = z
  .int(expected("unreadCount", "unreadCount must be an integer"))
  .check(
    z.gte(0, "unreadCount must be between 0 and 99999"),
    z.lte(99_999, "unreadCount must be between 0 and 99999"),
  );

/** doBackground(unreadCount) / doForeground(): `PUT /v1/presence`. */
export const presenceUpdateSchema = z.strictObject(
  {
    state: z.enum(
      ["foreground", "background"],
      expected("state", 'state must be "foreground" or "background"'),
    ),
    unreadCount: z.optional(unreadCount),
    // With it the report is about that device only (an iPad in the foreground must not silence the
    // phone); without it, about all of the user's devices.
    deviceId: z.optional(deviceIdSchema),
  },
  bodyErrors,
);
export type PresenceUpdate = z.output<typeof presenceUpdateSchema>;

/** setBadgeNum(unreadCount): `PUT /v1/badge`. */
export const badgeUpdateSchema = z.strictObject({ unreadCount }, bodyErrors);
export type BadgeUpdate = z.output<typeof badgeUpdateSchema>;
