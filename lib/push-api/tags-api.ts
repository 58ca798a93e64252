import { userIdProblem } from "../tencent/ids.js";
import { okAnswer, type RestAnswer, refuse, TENCENT } from "./errors.js";
import {
  MAX_ACCOUNTS_PER_TAG_CALL,
  MAX_ATTR_NAME_BYTES,
  MAX_ATTR_VALUE_BYTES,
  MAX_ATTRIBUTES,
  MAX_TAG_BYTES,
  MAX_TAGS_PER_ADD,
  MAX_TAGS_PER_USER,
  utf8Length,
} from "./limits.js";
import type { PushProfile, PushProfileStore } from "./ports.js";

/**
 * The tag and attribute APIs of `v4/all_member_push/` (intl 1047/37167–37175; shapes and limits in
 * tencent-calls-and-server-push.md §4.2, codes 90001 / 90009 / 90018 / 90033 / 91000 and the tag codes
 * of https://trtc.io/document/74196). Tags and attributes are chatpush's own store
 * (lib/adapters/dynamodb/push-profiles.ts), indexed so a push by condition reads only matching users.
 */
export const TAG_COMMANDS = [
  "im_add_tag",
  "im_get_tag",
  "im_remove_tag",
  "im_remove_all_tags",
  "im_set_attr",
  "im_get_attr",
  "im_remove_attr",
  "im_set_attr_name",
  "im_get_attr_name",
] as const;
export type TagCommand = (typeof TAG_COMMANDS)[number];

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Profile updates in flight at once for one call (≤ 100 users). */
const UPDATE_CONCURRENCY = 10;

function fieldsOf(body: unknown): Fields {
  if (!isObject(body)) refuse(TENCENT.json, "body", "must be a JSON object");
  return body;
}

function listOf(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) refuse(TENCENT.badFormat, field, "must be an array");
  if (value.length === 0) refuse(TENCENT.toAccount, field, "is empty");
  if (value.length > MAX_ACCOUNTS_PER_TAG_CALL)
    refuse(TENCENT.tooManyAccounts, field, `holds more than ${MAX_ACCOUNTS_PER_TAG_CALL} accounts`);
  return value;
}

function account(value: unknown, field: string): string {
  if (typeof value !== "string") refuse(TENCENT.toAccount, field, "must be a UserID string");
  const problem = userIdProblem(value);
  if (problem !== undefined) refuse(TENCENT.toAccount, field, problem);
  return value;
}

function accounts(body: Fields): string[] {
  return [...new Set(listOf(body.To_Account, "To_Account").map((a, i) => account(a, `To_Account[${i}]`)))];
}

function tags(value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value)) refuse(TENCENT.badFormat, field, "must be an array of tags");
  if (value.length > max) refuse(TENCENT.tooManyTags, field, `holds more than ${max} tags`);
  value.forEach((tag, i) => {
    if (typeof tag !== "string") refuse(TENCENT.badFormat, `${field}[${i}]`, "must be a string");
    if (tag === "") refuse(TENCENT.emptyTag, `${field}[${i}]`, "is an empty tag");
    if (utf8Length(tag) > MAX_TAG_BYTES)
      refuse(TENCENT.tagTooLong, `${field}[${i}]`, `is longer than ${MAX_TAG_BYTES} bytes`);
  });
  return [...new Set(value as string[])];
}

/** `[{To_Account, <member>}]` entries, each user once (a user named twice would race their own update). */
function entries(
  body: Fields,
  list: string,
  member: string,
): { userId: string; value: unknown; field: string }[] {
  const seen = new Set<string>();
  return listOf(body[list], list).map((entry, i) => {
    if (!isObject(entry)) refuse(TENCENT.badFormat, `${list}[${i}]`, "must be an object");
    const userId = account(entry.To_Account, `${list}[${i}].To_Account`);
    if (seen.has(userId)) refuse(TENCENT.badFormat, `${list}[${i}].To_Account`, "names a user twice");
    seen.add(userId);
    return { userId, value: entry[member], field: `${list}[${i}].${member}` };
  });
}

async function eachUser<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(UPDATE_CONCURRENCY, items.length) }, worker));
}

async function attrNameSet(profiles: PushProfileStore): Promise<Set<string>> {
  return new Set(Object.values(await profiles.getAttrNames()));
}

export async function tagCommand(
  command: TagCommand,
  body: unknown,
  profiles: PushProfileStore,
): Promise<RestAnswer> {
  const fields = fieldsOf(body);
  switch (command) {
    case "im_add_tag": {
      const wanted = entries(fields, "UserTags", "Tags").map((e) => ({
        ...e,
        tags: tags(e.value, e.field, MAX_TAGS_PER_ADD),
      }));
      // "At most 100 tags per user; delete before adding more": checked for all before anything is written.
      const current = await profiles.getProfiles(wanted.map((w) => w.userId));
      for (const { userId, tags: add, field } of wanted) {
        const union = new Set([...(current.get(userId)?.tags ?? []), ...add]);
        if (union.size > MAX_TAGS_PER_USER)
          refuse(TENCENT.tooManyTags, field, `would give ${userId} more than ${MAX_TAGS_PER_USER} tags`);
      }
      await eachUser(wanted, async ({ userId, tags: add }) => {
        await profiles.updateProfile(userId, (profile) => {
          const union = [...new Set([...profile.tags, ...add])];
          if (union.length === profile.tags.length) return undefined;
          if (union.length > MAX_TAGS_PER_USER)
            refuse(
              TENCENT.tooManyTags,
              "UserTags",
              `would give ${userId} more than ${MAX_TAGS_PER_USER} tags`,
            );
          return { ...profile, tags: union };
        });
      });
      return okAnswer();
    }
    case "im_remove_tag": {
      const wanted = entries(fields, "UserTags", "Tags").map((e) => ({
        ...e,
        tags: tags(e.value, e.field, MAX_TAGS_PER_USER),
      }));
      await eachUser(wanted, async ({ userId, tags: remove }) => {
        await profiles.updateProfile(userId, (profile) => {
          const kept = profile.tags.filter((tag) => !remove.includes(tag));
          return kept.length === profile.tags.length ? undefined : { ...profile, tags: kept };
        });
      });
      return okAnswer();
    }
    case "im_remove_all_tags": {
      await eachUser(accounts(fields), async (userId) => {
        await profiles.updateProfile(userId, (profile) =>
          profile.tags.length === 0 ? undefined : { ...profile, tags: [] },
        );
      });
      return okAnswer();
    }
    case "im_get_tag": {
      const ids = accounts(fields);
      const found = await profiles.getProfiles(ids);
      return okAnswer({ UserTags: ids.map((id) => ({ To_Account: id, Tags: found.get(id)?.tags ?? [] })) });
    }
    case "im_set_attr_name": {
      const names = fields.AttrNames;
      if (!isObject(names)) refuse(TENCENT.badAttribute, "AttrNames", 'must be an object {"0": "name", …}');
      const merged = { ...(await profiles.getAttrNames()) };
      for (const [key, name] of Object.entries(names)) {
        if (!/^\d$/.test(key) || Number(key) >= MAX_ATTRIBUTES)
          refuse(
            TENCENT.badAttribute,
            `AttrNames.${key}`,
            `keys are "0" to "${MAX_ATTRIBUTES - 1}" (at most ${MAX_ATTRIBUTES} attributes)`,
          );
        if (typeof name !== "string" || name === "")
          refuse(TENCENT.badAttribute, `AttrNames.${key}`, "must be a name");
        if (utf8Length(name) > MAX_ATTR_NAME_BYTES)
          refuse(TENCENT.badAttribute, `AttrNames.${key}`, `is longer than ${MAX_ATTR_NAME_BYTES} bytes`);
        merged[key] = name;
      }
      const values = Object.values(merged);
      if (new Set(values).size !== values.length)
        refuse(TENCENT.badAttribute, "AttrNames", "gives two keys the same name");
      await profiles.setAttrNames(merged);
      return okAnswer();
    }
    case "im_get_attr_name":
      return okAnswer({ AttrNames: await profiles.getAttrNames() });
    case "im_set_attr": {
      const known = await attrNameSet(profiles);
      const wanted = entries(fields, "UserAttrs", "Attrs").map(({ userId, value, field }) => {
        if (!isObject(value))
          refuse(TENCENT.badAttribute, field, "must be an object of attribute name → value");
        for (const [name, attr] of Object.entries(value)) {
          if (!known.has(name))
            refuse(
              TENCENT.badAttribute,
              `${field}.${name}`,
              "is not an attribute name set with im_set_attr_name",
            );
          if (typeof attr !== "string" || attr === "")
            refuse(TENCENT.badAttribute, `${field}.${name}`, "must be a non-empty string");
          if (utf8Length(attr) > MAX_ATTR_VALUE_BYTES)
            refuse(TENCENT.badAttribute, `${field}.${name}`, `is longer than ${MAX_ATTR_VALUE_BYTES} bytes`);
        }
        return { userId, attrs: value as Record<string, string> };
      });
      await eachUser(wanted, async ({ userId, attrs }) => {
        await profiles.updateProfile(userId, (profile) => {
          const next = { ...profile.attrs, ...attrs };
          return sameAttrs(next, profile) ? undefined : { ...profile, attrs: next };
        });
      });
      return okAnswer();
    }
    case "im_remove_attr": {
      const wanted = entries(fields, "UserAttrs", "Attrs").map(({ userId, value, field }) => {
        if (!Array.isArray(value) || value.some((name) => typeof name !== "string"))
          refuse(TENCENT.badAttribute, field, "must be an array of attribute names");
        return { userId, names: value as string[] };
      });
      await eachUser(wanted, async ({ userId, names }) => {
        await profiles.updateProfile(userId, (profile) => {
          const next = Object.fromEntries(
            Object.entries(profile.attrs).filter(([name]) => !names.includes(name)),
          );
          return sameAttrs(next, profile) ? undefined : { ...profile, attrs: next };
        });
      });
      return okAnswer();
    }
    case "im_get_attr": {
      const ids = accounts(fields);
      const found = await profiles.getProfiles(ids);
      return okAnswer({
        UserAttrs: ids.map((id) => ({ To_Account: id, Attrs: found.get(id)?.attrs ?? {} })),
      });
    }
  }
}

function sameAttrs(next: Record<string, string>, profile: PushProfile): boolean {
  const before = Object.entries(profile.attrs);
  return before.length === Object.keys(next).length && before.every(([name, value]) => next[name] === value);
}
