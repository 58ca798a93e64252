import { describe, expect, it } from "vitest";
import { makeHttpApp } from "../../../lib/http/app.js";
import {
  jsonDepth,
  MAX_CALLBACK_BODY_BYTES,
  MAX_JSON_DEPTH,
  parseBoundedJson,
} from "../../../lib/http/json.js";
import type { HttpRequest } from "../../../lib/http/types.js";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("jsonDepth", () => {
  it.each([
    ["{}", 1],
    ['{"a":[1,{"b":2}]}', 3],
    ['"[[[["', 0],
    ['{"a":"\\"[[["}', 1],
    [nested(10_000), 10_000],
  ])("%s nests %i levels", (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it("stops counting past the limit (a 1 MB body of brackets costs one scan)", () => {
    expect(jsonDepth(nested(500_000), 64)).toBe(65);
  });
});

describe("parseBoundedJson", () => {
  it("parses what is within the limits", () => {
    expect(parseBoundedJson('{"a":[1]}', { maxBytes: 100 })).toEqual({ ok: true, value: { a: [1] } });
  });

  it.each([2_000, 4_115, 100_000])("refuses %i levels of nesting with 400 naming body", (depth) => {
    expect(parseBoundedJson(nested(depth), { maxBytes: 10_000_000 })).toMatchObject({
      ok: false,
      status: 400,
      field: "body",
      error: `body nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  it("accepts exactly the nesting limit", () => {
    expect(parseBoundedJson(nested(MAX_JSON_DEPTH), { maxBytes: 1000 }).ok).toBe(true);
  });

  it("counts bytes, not characters (汉 is three bytes of UTF-8)", () => {
    const text = JSON.stringify("汉".repeat(40));
    expect(text.length).toBeLessThan(100);
    expect(parseBoundedJson(text, { maxBytes: 100 })).toMatchObject({
      ok: false,
      status: 413,
      field: "body",
    });
  });

  it("says when it is not JSON", () => {
    expect(parseBoundedJson("{", { maxBytes: 100 })).toMatchObject({ ok: false, status: 400, field: "body" });
  });
});

describe("makeHttpApp", () => {
  const request = (body: string): HttpRequest => ({
    method: "POST",
    path: "/x",
    query: {},
    headers: {},
    body,
  });
  const app = makeHttpApp([async () => ({ status: 204, body: "" })]);

  it("answers 413 naming body before any route for a body over the limit (SQS takes 1 MiB)", async () => {
    const response = await app(request("x".repeat(MAX_CALLBACK_BODY_BYTES + 1)));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ field: "body" });
  });

  it("passes a body of exactly the limit to the routes", async () => {
    expect((await app(request("x".repeat(MAX_CALLBACK_BODY_BYTES)))).status).toBe(204);
  });
});
