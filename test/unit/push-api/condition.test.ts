import { describe, expect, it } from "vitest";
import { audiencePlan, matches, parseCondition } from "../../../lib/push-api/condition.js";
import type { RestRefusal } from "../../../lib/push-api/errors.js";

const NAMES = new Set(["sex", "city"]);
const codeOf = (value: unknown): number | undefined => {
  try {
    parseCondition(value, NAMES);
    return undefined;
  } catch (error) {
    return (error as RestRefusal).code;
  }
};

describe("Condition: Tencent's limits and codes", () => {
  it.each([
    ["tags and attributes mixed", { TagsOr: ["a"], AttrsAnd: { sex: "F" } }, 90039],
    ["11 tags", { TagsOr: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 90032],
    ["a tag over 50 bytes", { TagsAnd: ["标".repeat(17)] }, 90020],
    ["an empty tag", { TagsOr: ["a", ""] }, 90040],
    ["a tag repeated", { TagsOr: ["a", "a"] }, 90022],
    ["a tag in both TagsAnd and TagsOr", { TagsAnd: ["a"], TagsOr: ["a", "b"] }, 90022],
    ["an attribute never named with im_set_attr_name", { AttrsOr: { age: "30" } }, 90033],
    ["an attribute value over 50 bytes", { AttrsAnd: { city: "x".repeat(51) } }, 90033],
    ["TagsOr not an array", { TagsOr: "a" }, 90010],
  ])("refuses %s with %i", (_name, condition, code) => {
    expect(codeOf(condition)).toBe(code);
  });

  it("accepts 10 tags of 50 bytes (16 three-byte characters and two ASCII)", () => {
    const tags = Array.from({ length: 10 }, (_, i) => `${"标".repeat(16)}${i}x`);
    expect(parseCondition({ TagsOr: tags }, NAMES)).toEqual({ tagsOr: tags });
  });

  it("reads an absent, empty or all-empty condition as every user", () => {
    expect(parseCondition(undefined, NAMES)).toBeUndefined();
    expect(parseCondition({}, NAMES)).toBeUndefined();
    expect(parseCondition({ TagsOr: [] }, NAMES)).toBeUndefined();
  });
});

describe("who a condition reaches", () => {
  const user = (tags: string[], attrs: Record<string, string> = {}) => ({ tags, attrs });

  it("TagsAnd needs every tag, TagsOr one, AttrsAnd every pair, AttrsOr one", () => {
    expect(matches({ tagsAnd: ["a", "b"] }, user(["a", "b", "c"]))).toBe(true);
    expect(matches({ tagsAnd: ["a", "b"] }, user(["a"]))).toBe(false);
    expect(matches({ tagsOr: ["a", "b"] }, user(["b"]))).toBe(true);
    expect(matches({ tagsOr: ["a", "b"] }, user(["c"]))).toBe(false);
    expect(matches({ attrsAnd: { sex: "F", city: "SZ" } }, user([], { sex: "F", city: "SZ" }))).toBe(true);
    expect(matches({ attrsAnd: { sex: "F", city: "SZ" } }, user([], { sex: "F", city: "BJ" }))).toBe(false);
    expect(matches({ attrsOr: { sex: "F", city: "SZ" } }, user([], { sex: "M", city: "SZ" }))).toBe(true);
  });

  it('TagsNot as Tencent\'s example reads it: "(A or B) and not (C and D)"', () => {
    const condition = { tagsOr: ["A", "B"], tagsNot: ["C", "D"] };
    expect(matches(condition, user(["A"]))).toBe(true);
    expect(matches(condition, user(["A", "C"]))).toBe(true);
    expect(matches(condition, user(["B", "C", "D"]))).toBe(false);
    expect(matches({ tagsNot: ["C"] }, user(["C"]))).toBe(false);
    expect(matches({ tagsNot: ["C"] }, user([]))).toBe(true);
  });

  it("reads an index, never every user, unless only TagsNot is given", () => {
    expect(audiencePlan(undefined)).toEqual({ drivers: [{ kind: "all" }], checkProfiles: false });
    expect(audiencePlan({ tagsOr: ["a"] })).toEqual({
      drivers: [{ kind: "tag", tag: "a" }],
      checkProfiles: false,
    });
    expect(audiencePlan({ tagsOr: ["a", "b"] })).toEqual({
      drivers: [
        { kind: "tag", tag: "a" },
        { kind: "tag", tag: "b" },
      ],
      checkProfiles: true,
    });
    expect(audiencePlan({ tagsAnd: ["a", "b"] })).toEqual({
      drivers: [{ kind: "tag", tag: "a" }],
      checkProfiles: true,
    });
    expect(audiencePlan({ tagsAnd: ["a"], tagsOr: ["b"] })).toEqual({
      drivers: [{ kind: "tag", tag: "b" }],
      checkProfiles: true,
    });
    expect(audiencePlan({ attrsAnd: { sex: "F" } })).toEqual({
      drivers: [{ kind: "attr", name: "sex", value: "F" }],
      checkProfiles: false,
    });
    expect(audiencePlan({ tagsOr: ["a"], tagsNot: ["c"] }).checkProfiles).toBe(true);
    expect(audiencePlan({ tagsNot: ["c"] })).toEqual({ drivers: [{ kind: "all" }], checkProfiles: true });
  });
});
