import { refuse, TENCENT } from "./errors.js";
import { MAX_ATTR_VALUE_BYTES, MAX_CONDITION_TAGS, MAX_TAG_BYTES, utf8Length } from "./limits.js";
import type { PushCondition, PushProfile, Segment } from "./ports.js";

/**
 * `Condition` of `timpush/push` and `all_member_push/im_push` (https://trtc.io/document/60561,
 * https://trtc.io/document/37166): `TagsAnd` / `TagsOr` / `TagsNot` (string arrays) or `AttrsAnd` /
 * `AttrsOr` (objects name → value); the And and Or of one kind may coexist, tags and attributes may
 * not (90039). No Condition = every user.
 *
 * Semantics:
 * - TagsAnd: the user holds every tag; TagsOr: at least one; AttrsAnd: every pair; AttrsOr: one pair.
 * - TagsNot, as documented: Tencent's example reads "(A or B) and not (C and D)" for
 *   `{"TagsOr":["A","B"],"TagsNot":["C","D"]}` (tencent-calls-and-server-push.md §4.3), so a user is
 *   excluded when they hold **every** tag of TagsNot (with one tag: when they hold it). UNCONFIRMED:
 *   Tencent documents no field table for it; "not any of" would read the same for a single tag.
 *   TagsNot alone means every user but those.
 */

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function tagList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) refuse(TENCENT.badFormat, field, "must be an array of tags");
  if (value.length > MAX_CONDITION_TAGS)
    refuse(TENCENT.tooManyTags, field, `holds more than ${MAX_CONDITION_TAGS} tags`);
  value.forEach((tag, i) => {
    if (typeof tag !== "string") refuse(TENCENT.badFormat, `${field}[${i}]`, "must be a string");
    if (tag === "") refuse(TENCENT.emptyTag, `${field}[${i}]`, "is an empty tag");
    if (utf8Length(tag) > MAX_TAG_BYTES)
      refuse(TENCENT.tagTooLong, `${field}[${i}]`, `is longer than ${MAX_TAG_BYTES} bytes`);
  });
  if (new Set(value).size !== value.length) refuse(TENCENT.duplicateTags, field, "repeats a tag");
  return value.length === 0 ? undefined : (value as string[]);
}

function attrMap(
  value: unknown,
  field: string,
  known: ReadonlySet<string>,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) refuse(TENCENT.badAttribute, field, "must be an object of attribute name → value");
  const entries = Object.entries(value);
  for (const [name, attr] of entries) {
    if (!known.has(name))
      refuse(TENCENT.badAttribute, `${field}.${name}`, "is not an attribute name set with im_set_attr_name");
    if (typeof attr !== "string") refuse(TENCENT.badAttribute, `${field}.${name}`, "must be a string");
    if (utf8Length(attr) > MAX_ATTR_VALUE_BYTES)
      refuse(TENCENT.badAttribute, `${field}.${name}`, `is longer than ${MAX_ATTR_VALUE_BYTES} bytes`);
  }
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Record<string, string>);
}

/**
 * The request's `Condition`, validated, or undefined for "every user". `attrNames` are the names set
 * with im_set_attr_name (an attribute condition on another name is refused with 90033).
 */
export function parseCondition(value: unknown, attrNames: ReadonlySet<string>): PushCondition | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) refuse(TENCENT.badFormat, "Condition", "must be an object");
  const tagsAnd = tagList(value.TagsAnd, "Condition.TagsAnd");
  const tagsOr = tagList(value.TagsOr, "Condition.TagsOr");
  const tagsNot = tagList(value.TagsNot, "Condition.TagsNot");
  const attrsAnd = attrMap(value.AttrsAnd, "Condition.AttrsAnd", attrNames);
  const attrsOr = attrMap(value.AttrsOr, "Condition.AttrsOr", attrNames);
  const tags = tagsAnd !== undefined || tagsOr !== undefined || tagsNot !== undefined;
  const attrs = attrsAnd !== undefined || attrsOr !== undefined;
  if (tags && attrs) refuse(TENCENT.mixedCondition, "Condition", "mixes tag and attribute conditions");
  // "Duplicate tags exist in the TagsOr and TagsAnd push conditions" (90022).
  const overlap = (tagsAnd ?? []).find((tag) => (tagsOr ?? []).includes(tag));
  if (overlap !== undefined)
    refuse(TENCENT.duplicateTags, "Condition", `names ${JSON.stringify(overlap)} in both TagsAnd and TagsOr`);
  if (!tags && !attrs) return undefined;
  return {
    ...(tagsAnd !== undefined && { tagsAnd }),
    ...(tagsOr !== undefined && { tagsOr }),
    ...(tagsNot !== undefined && { tagsNot }),
    ...(attrsAnd !== undefined && { attrsAnd }),
    ...(attrsOr !== undefined && { attrsOr }),
  };
}

/** Whether a user with `profile` is in the audience `condition` describes (undefined = everybody). */
export function matches(condition: PushCondition | undefined, profile: PushProfile): boolean {
  if (condition === undefined) return true;
  const tags = new Set(profile.tags);
  const { tagsAnd, tagsOr, tagsNot, attrsAnd, attrsOr } = condition;
  if (tagsAnd !== undefined && !tagsAnd.every((tag) => tags.has(tag))) return false;
  if (tagsOr !== undefined && !tagsOr.some((tag) => tags.has(tag))) return false;
  if (tagsNot?.every((tag) => tags.has(tag))) return false;
  const has = ([name, value]: [string, string]) => profile.attrs[name] === value;
  if (attrsAnd !== undefined && !Object.entries(attrsAnd).every(has)) return false;
  if (attrsOr !== undefined && !Object.entries(attrsOr).some(has)) return false;
  return true;
}

/**
 * How the fan-out finds the audience without scanning everybody: the segments whose users it reads
 * (their union holds the whole audience), and whether each candidate's profile must be checked
 * against the condition. A TagsOr reads each of its tags; a TagsAnd reads its first tag and checks the
 * others; an AttrsOr reads each pair, an AttrsAnd its first pair; a TagsNot alone reads everybody.
 * With more than one driving segment, a user found in segment i is taken only if no earlier segment
 * holds them, so nobody is pushed twice.
 */
export interface AudiencePlan {
  drivers: Segment[];
  /** False when the driving segment is exactly the audience: no profile is read. */
  checkProfiles: boolean;
}

export function audiencePlan(condition: PushCondition | undefined): AudiencePlan {
  if (condition === undefined) return { drivers: [{ kind: "all" }], checkProfiles: false };
  const { tagsAnd, tagsOr, tagsNot, attrsAnd, attrsOr } = condition;
  const pairs = (attrs: Record<string, string>): Segment[] =>
    Object.entries(attrs).map(([name, value]) => ({ kind: "attr", name, value }));
  let drivers: Segment[];
  if (tagsOr !== undefined) drivers = tagsOr.map((tag) => ({ kind: "tag", tag }));
  else if (tagsAnd !== undefined) drivers = [{ kind: "tag", tag: tagsAnd[0]! }];
  else if (attrsOr !== undefined) drivers = pairs(attrsOr);
  else if (attrsAnd !== undefined) drivers = pairs(attrsAnd).slice(0, 1);
  else drivers = [{ kind: "all" }];
  const exact =
    drivers.length === 1 &&
    tagsNot === undefined &&
    (tagsAnd?.length ?? 1) === 1 &&
    (tagsAnd === undefined || tagsOr === undefined) &&
    (attrsAnd === undefined ? true : Object.keys(attrsAnd).length === 1 && attrsOr === undefined);
  return { drivers, checkProfiles: !exact };
}

/** Whether `profile` lies in `segment` (a candidate seen in an earlier driving segment is not taken twice). */
export function inSegment(segment: Segment, profile: PushProfile): boolean {
  switch (segment.kind) {
    case "all":
      return true;
    case "tag":
      return profile.tags.includes(segment.tag);
    case "attr":
      return profile.attrs[segment.name] === segment.value;
  }
}
