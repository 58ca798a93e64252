import { en } from "zod/locales";
import * as z from "zod/mini";
import { groupIdProblem, userIdProblem } from "../tencent/ids.js";
import { isValidTimeZone } from "./rules.js";

// zod/mini registers no locale (see device.schema.ts); every message below is our own anyway.
if (!z.config().localeError) z.config(en());

/**
 * The preferences API, mirroring the SDK calls the app already makes: setC2CReceiveMessageOpt /
 * setGroupReceiveMessageOpt (`PUT /v1/preferences/conversations/{conversationID}`) and
 * setAllReceiveMessageOpt / setAllReceiveMessageOptWithTimestamp (`PUT /v1/preferences/all`), with the
 * SDK's value ranges (tencent-chat.md §7.1). Objects are strict so a misspelt key is a 400.
 */

/** Native SDK ids (§7.5); the Web SDK's "C2C…" / "GROUP…" spelling is refused, not guessed at. */
export const conversationIdSchema = z.string().check(
  z.maxLength(128, "conversationID must be at most 128 characters"),
  z.regex(/^(?:c2c|group)_[^\s\p{Cc}]+$/u, 'conversationID must be "c2c_<userID>" or "group_<groupID>"'),
  // The id inside follows Tencent's own rules (lib/tencent/ids.ts): it becomes a stored map key.
  z.refine(
    (id) =>
      id.startsWith("c2c_")
        ? userIdProblem(id.slice(4)) === undefined
        : groupIdProblem(id.slice(6)) === undefined,
    "conversationID must hold a valid Tencent user id (visible ASCII, at most 32 bytes) or group id (printable ASCII, at most 48 bytes)",
  ),
);

/** "x is required" when absent, `invalid` otherwise: the client learns which mistake it made. */
function expected(field: string, invalid: string) {
  return {
    error: (issue: { input?: unknown }) => (issue.input === undefined ? `${field} is required` : invalid),
  };
}

const bodyErrors = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys"
      ? `unknown field ${(issue.keys ?? []).map((key) => JSON.stringify(key)).join(", ")}`
      : "body must be a JSON object",
};

function intBetween(
  field: string,
  min: number,
  max: number,
  invalid = `${field} must be an integer from ${min} to ${max}`,
) {
  return z.int(expected(field, invalid)).check(z.gte(min, invalid), z.lte(max, invalid));
}

/** `PUT /v1/preferences/conversations/{conversationID}`: a `V2TIMReceiveMessageOpt`. */
export const conversationOptSchema = z.strictObject(
  {
    receiveOpt: z.literal([0, 1, 2, 3, 4], expected("receiveOpt", "receiveOpt must be 0, 1, 2, 3 or 4")),
  },
  bodyErrors,
);
export type ConversationOptInput = z.output<typeof conversationOptSchema>;

// Longer than 86400 already means "permanent"; the cap only refuses nonsense (ten years).
const MAX_DURATION = 10 * 365 * 86_400;
// 9999-12-31T23:59:59Z: anything larger is milliseconds sent where the SDK takes seconds.
const MAX_TIMESTAMP = 253_402_300_799;

const TIME_OF_DAY = ["startHour", "startMinute", "startSecond"] as const;

/**
 * `PUT /v1/preferences/all`: `{receiveOpt, startHour, startMinute, startSecond, duration, timeZone?}`
 * (setAllReceiveMessageOpt; `timeZone` is the IANA zone the hours are in, UTC when omitted) or
 * `{receiveOpt, startTimeStamp, duration}` (setAllReceiveMessageOptWithTimestamp; UTC seconds).
 */
export const globalOptSchema = z
  .strictObject(
    {
      receiveOpt: z.literal([0, 2], expected("receiveOpt", "receiveOpt must be 0 or 2")),
      startHour: z.optional(intBetween("startHour", 0, 23)),
      startMinute: z.optional(intBetween("startMinute", 0, 59)),
      startSecond: z.optional(intBetween("startSecond", 0, 59)),
      startTimeStamp: z.optional(
        intBetween(
          "startTimeStamp",
          0,
          MAX_TIMESTAMP,
          "startTimeStamp must be a non-negative integer of UTC seconds (not milliseconds)",
        ),
      ),
      duration: intBetween(
        "duration",
        0,
        MAX_DURATION,
        `duration must be an integer of seconds from 0 to ${MAX_DURATION} (86400 or more is permanent)`,
      ),
      timeZone: z.optional(
        z
          .string({ error: "timeZone must be a string" })
          .check(
            z.refine(
              (name) => name.length <= 64 && isValidTimeZone(name),
              'timeZone must be an IANA time zone name such as "Asia/Shanghai"',
            ),
          ),
      ),
    },
    bodyErrors,
  )
  .check(
    z.superRefine((body, ctx) => {
      if (body.startTimeStamp !== undefined) {
        for (const field of [...TIME_OF_DAY, "timeZone"] as const) {
          if (body[field] !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: [field],
              message: `${field} cannot be combined with startTimeStamp (which is UTC seconds)`,
            });
          }
        }
        return;
      }
      for (const field of TIME_OF_DAY) {
        if (body[field] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `${field} is required (or send startTimeStamp instead)`,
          });
        }
      }
    }),
  );
export type GlobalOptInput = z.output<typeof globalOptSchema>;
