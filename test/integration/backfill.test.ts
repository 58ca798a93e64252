import { spawn } from "node:child_process";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGroupStore } from "../../lib/adapters/dynamodb/group-store.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { backfillGroupMembers } from "../../lib/groups/backfill.js";
import { type Clock, systemClock } from "../../lib/ports/index.js";
import { TencentRestClient, TencentRestError } from "../../lib/tencent/rest-client.js";
import { verifyUserSig } from "../../lib/tencent/usersig.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";
import { startTencentRestSimulator, type TencentRestSimulator } from "../../local/simulators/tencent-rest.js";

// TencentRestClient and backfillGroupMembers against the REST simulator (real sockets) and dynalite.
const SDK_APP_ID = 1_400_123_456;
const SECRET_KEY = "backfill-test-secret";

let dynamo: DynamoEmulator;
let tencent: TencentRestSimulator;
let groups: DynamoGroupStore;
let tableName = "";
let table = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
  tencent = await startTencentRestSimulator({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY });
});
afterAll(async () => {
  await tencent.close();
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `backfill-${++table}`;
  await ensureTable(dynamo.client, tableName);
  groups = new DynamoGroupStore(documentClient(dynamo.client), tableName);
});

const accounts = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);

const restClient = (opts: { secretKey?: string; clock?: Clock; fetch?: typeof fetch } = {}) =>
  new TencentRestClient({
    baseUrl: tencent.url,
    sdkAppId: SDK_APP_ID,
    adminIdentifier: "administrator",
    secretKey: opts.secretKey ?? SECRET_KEY,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });

async function mirrored(groupId: string): Promise<string[]> {
  const members: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await groups.listMembers(groupId, cursor, 1000);
    members.push(...page.members);
    cursor = page.next;
  } while (cursor !== undefined);
  return members.sort();
}

/** Calls through the real fetch, recording each call's query and JSON body. */
function recordingFetch(calls: { query: URLSearchParams; body: Record<string, unknown> }[]): typeof fetch {
  return async (input, init) => {
    calls.push({ query: new URL(String(input)).searchParams, body: JSON.parse(String(init?.body)) });
    return fetch(input, init);
  };
}

const MEMBER_INFO = "/v4/group_open_http_svc/get_group_member_info";

describe("backfillGroupMembers", () => {
  it("stores the group's name and type from get_group_info, so its pushes are titled with it", async () => {
    tencent.setGroupMembers("@TGS#2NAMED", accounts(3, "n"));
    tencent.setGroupInfo("@TGS#2NAMED", { Name: "Weekend hiking", Type: "Work" });
    const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
    const result = await backfillGroupMembers("@TGS#2NAMED", {
      rest: restClient({ fetch: recordingFetch(calls) }),
      groups,
      clock: systemClock,
    });
    expect(result).toEqual({ name: "Weekend hiking", members: 3, pages: 1 });
    expect(await groups.getGroup("@TGS#2NAMED")).toMatchObject({ name: "Weekend hiking", type: "Work" });
    expect(calls[0]!.body).toEqual({
      GroupIdList: ["@TGS#2NAMED"],
      ResponseFilter: { GroupBaseInfoFilter: ["Type", "Name"] },
    });
  });

  it("mirrors a 1,234-member ordinary group exactly, one Offset page of 100 per request", async () => {
    const members = accounts(1234, "work");
    tencent.setGroupMembers("@TGS#2WORKGROUP", members);
    const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
    const before = tencent.calls(MEMBER_INFO);

    const result = await backfillGroupMembers("@TGS#2WORKGROUP", {
      rest: restClient({ fetch: recordingFetch(calls) }),
      groups,
      clock: systemClock,
    });

    expect(result).toEqual({ members: 1234, pages: 13 });
    expect(tencent.calls(MEMBER_INFO) - before).toBe(13);
    expect(await mirrored("@TGS#2WORKGROUP")).toEqual(members);
    calls.splice(0, 1); // get_group_info, for the group's name
    expect(calls.map((c) => c.body.Offset)).toEqual(Array.from({ length: 13 }, (_, i) => i * 100));
    expect(calls[0]!.body).toEqual({
      GroupId: "@TGS#2WORKGROUP",
      Limit: 100,
      Offset: 0,
      MemberInfoFilter: ["Role"],
    });
    // One admin UserSig for all 13 calls; a fresh random each.
    expect(new Set(calls.map((c) => c.query.get("usersig"))).size).toBe(1);
    expect(new Set(calls.map((c) => c.query.get("random"))).size).toBe(13);
  });

  it("mirrors a 250-member Community group exactly, paging with Next", async () => {
    const members = accounts(250, "fan");
    tencent.setGroupMembers("@TGS#_@TGS#cCOMMUNITY", members);
    const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
    const before = tencent.calls(MEMBER_INFO);

    const result = await backfillGroupMembers("@TGS#_@TGS#cCOMMUNITY", {
      rest: restClient({ fetch: recordingFetch(calls) }),
      groups,
      clock: systemClock,
    });

    expect(result).toEqual({ members: 250, pages: 3 });
    expect(tencent.calls(MEMBER_INFO) - before).toBe(3);
    expect(await mirrored("@TGS#_@TGS#cCOMMUNITY")).toEqual(members);
    calls.splice(0, 1); // get_group_info, for the group's name
    expect(calls[0]!.body).toMatchObject({ Limit: 100, Next: "" });
    expect(calls.every((c) => !("Offset" in c.body))).toBe(true);
  });

  it("stops at MemberNum when the member count is a multiple of the page size (no empty last call)", async () => {
    tencent.setGroupMembers("@TGS#2EVEN", accounts(300, "even"));
    const before = tencent.calls(MEMBER_INFO);

    const result = await backfillGroupMembers("@TGS#2EVEN", {
      rest: restClient(),
      groups,
      clock: systemClock,
    });

    expect(result).toEqual({ members: 300, pages: 3 });
    expect(tencent.calls(MEMBER_INFO) - before).toBe(3);
  });

  it("keeps to half of Tencent's 200 calls/s, one request in flight", async () => {
    const members = accounts(60, "slow");
    tencent.setGroupMembers("@TGS#2PACED", members);
    const before = tencent.calls(MEMBER_INFO);
    const started = Date.now();

    const result = await backfillGroupMembers("@TGS#2PACED", {
      rest: restClient(),
      groups,
      clock: systemClock,
      pageSize: 1,
    });

    expect(result).toEqual({ members: 60, pages: 60 });
    expect(tencent.calls(MEMBER_INFO) - before).toBe(60);
    // 59 gaps of at least 10 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(await mirrored("@TGS#2PACED")).toEqual(members);
  });

  it("fails with Tencent's error code when the secret key is wrong, writing nothing", async () => {
    tencent.setGroupMembers("@TGS#2SECRET", accounts(10, "s"));

    const failure = backfillGroupMembers("@TGS#2SECRET", {
      rest: restClient({ secretKey: "not-the-secret" }),
      groups,
      clock: systemClock,
    });

    await expect(failure).rejects.toThrow(TencentRestError);
    await expect(failure).rejects.toMatchObject({ errorCode: 70009, retryable: false });
    await expect(failure).rejects.toThrow(/ErrorCode 70009/);
    expect(await mirrored("@TGS#2SECRET")).toEqual([]);
  });

  it("fails with 10010 for a group Tencent does not know", async () => {
    await expect(
      backfillGroupMembers("@TGS#2NOSUCH", { rest: restClient(), groups, clock: systemClock }),
    ).rejects.toMatchObject({ name: "TencentRestError", errorCode: 10010 });
  });

  it("retries Tencent's rate-limit answer and counts only the pages that came back", async () => {
    tencent.setGroupMembers("@TGS#2BUSY", accounts(150, "busy"));
    let limited = 2;
    const busy: typeof fetch = async (input, init) => {
      if (limited-- > 0) {
        return Response.json({ ActionStatus: "FAIL", ErrorCode: 60007, ErrorInfo: "too many requests" });
      }
      return fetch(input, init);
    };

    const result = await backfillGroupMembers("@TGS#2BUSY", {
      rest: restClient({ fetch: busy }),
      groups,
      clock: systemClock,
    });

    expect(result).toEqual({ members: 150, pages: 2 });
    expect(await mirrored("@TGS#2BUSY")).toHaveLength(150);
  });

  it("rejects a Community page size above 100 before calling Tencent", async () => {
    const before = tencent.calls(MEMBER_INFO);
    await expect(
      backfillGroupMembers("@TGS#_@TGS#cBIG", {
        rest: restClient(),
        groups,
        clock: systemClock,
        pageSize: 101,
      }),
    ).rejects.toThrow(RangeError);
    expect(tencent.calls(MEMBER_INFO)).toBe(before);
  });
});

describe("TencentRestClient", () => {
  it("reads nicknames with portrait_get, 100 accounts per call; none for unknown or nick-less accounts", async () => {
    tencent.setProfile("alice", { Tag_Profile_IM_Nick: "Alice Chen" });
    tencent.setProfile("bob", { Tag_Profile_IM_Gender: "Gender_Type_Male" });
    const ids = ["alice", "bob", "nobody", ...Array.from({ length: 150 }, (_, i) => `u${i}`)];
    const before = tencent.calls("/v4/profile/portrait_get");
    const names = await restClient().nicknames(ids);
    expect(tencent.calls("/v4/profile/portrait_get") - before).toBe(2);
    expect(names.get("alice")).toBe("Alice Chen");
    expect(names.has("bob") && names.get("bob") === undefined).toBe(true);
    expect(names.has("nobody") && names.get("nobody") === undefined).toBe(true);
    expect(names.size).toBe(ids.length);
  });

  it("is refused by the simulator as Tencent refuses it: over 100 accounts (40001), an unknown tag (40009)", async () => {
    const rest = restClient();
    const accounts101 = Array.from({ length: 101 }, (_, i) => `x${i}`);
    await expect(
      rest.call("profile", "portrait_get", { To_Account: accounts101, TagList: ["Tag_Profile_IM_Nick"] }),
    ).rejects.toMatchObject({ errorCode: 40001 });
    await expect(
      rest.call("profile", "portrait_get", { To_Account: ["a"], TagList: ["Tag_Profile_IM_Shoe"] }),
    ).rejects.toMatchObject({ errorCode: 40009 });
  });

  it("reuses the admin UserSig until an hour before it expires, then issues a new one", async () => {
    tencent.setGroupMembers("@TGS#2SIG", ["alice"]);
    let offsetMs = 0;
    const clock: Clock = { now: () => Date.now() + offsetMs };
    const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
    const rest = restClient({ clock, fetch: recordingFetch(calls) });

    await rest.getGroupMemberInfo("@TGS#2SIG", { limit: 10, offset: 0 });
    offsetMs = 22 * 60 * 60 * 1000;
    await rest.getGroupMemberInfo("@TGS#2SIG", { limit: 10, offset: 0 });
    offsetMs = 23.5 * 60 * 60 * 1000;
    // The new UserSig is dated by the test's clock, 23.5 h ahead of the simulator's real one: Tencent
    // (and its simulator) refuse a UserSig issued in the future, which is what this call meets.
    await expect(rest.getGroupMemberInfo("@TGS#2SIG", { limit: 10, offset: 0 })).rejects.toMatchObject({
      errorCode: 70003,
    });

    const sigs = calls.map((c) => c.query.get("usersig")!);
    expect(sigs[1]).toBe(sigs[0]);
    expect(sigs[2]).not.toBe(sigs[0]);
    const verified = verifyUserSig(sigs[0]!, {
      sdkAppId: SDK_APP_ID,
      secretKey: SECRET_KEY,
      nowMs: Date.now(),
    });
    expect(verified).toMatchObject({ ok: true, identifier: "administrator" });
    expect(calls[0]!.query.get("contenttype")).toBe("json");
    expect(calls[0]!.query.get("sdkappid")).toBe(String(SDK_APP_ID));
  });

  it("returns the members, MemberNum and Next of a page", async () => {
    tencent.setGroupMembers("@TGS#_@TGS#cPAGE", ["owner", "m1", "m2"]);
    const rest = restClient();

    const first = await rest.getGroupMemberInfo("@TGS#_@TGS#cPAGE", { limit: 2, next: "" });
    const last = await rest.getGroupMemberInfo("@TGS#_@TGS#cPAGE", { limit: 2, next: first.next! });

    expect(first).toEqual({ memberNum: 3, members: ["owner", "m1"], next: expect.any(String) });
    expect(last).toEqual({ memberNum: 3, members: ["m2"] });
  });

  it("names ErrorCode and ErrorInfo of a refusal, and never the UserSig", async () => {
    tencent.setGroupMembers("@TGS#_@TGS#cLIMIT", ["a"]);
    const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
    const rest = restClient({ fetch: recordingFetch(calls) });

    const error: unknown = await rest
      .getGroupMemberInfo("@TGS#_@TGS#cLIMIT", { limit: 101, next: "" })
      .catch((e: unknown) => e);

    if (!(error instanceof TencentRestError)) throw new Error(`expected a TencentRestError, got ${error}`);
    expect(error.errorCode).toBe(10004);
    expect(error.message).toMatch(
      /group_open_http_svc\/get_group_member_info failed: ErrorCode 10004 \(Limit/,
    );
    expect(error.message).not.toContain(calls[0]!.query.get("usersig"));
  });

  it("turns HTTP errors and network failures into retryable TencentRestErrors", async () => {
    const badGateway = restClient({ fetch: async () => new Response("<html>502</html>", { status: 502 }) });
    await expect(badGateway.getGroupMemberInfo("@TGS#2X", { limit: 1 })).rejects.toMatchObject({
      name: "TencentRestError",
      httpStatus: 502,
      errorCode: undefined,
      retryable: true,
    });

    const closed = new TencentRestClient({
      baseUrl: "http://127.0.0.1:1",
      sdkAppId: SDK_APP_ID,
      adminIdentifier: "administrator",
      secretKey: SECRET_KEY,
    });
    await expect(closed.getGroupMemberInfo("@TGS#2X", { limit: 1 })).rejects.toMatchObject({
      httpStatus: 0,
      retryable: true,
    });
  });
});

describe("REST simulator", () => {
  it("checks the URL as Tencent does: app, admin identifier, UserSig, random, contenttype", async () => {
    tencent.setGroupMembers("@TGS#2AUTH", ["a"]);
    const good = new URL(
      `${tencent.url}/v4/group_open_http_svc/get_group_member_info?${new URLSearchParams({
        sdkappid: String(SDK_APP_ID),
        identifier: "administrator",
        usersig: (await captureUserSig()) ?? "",
        random: "42",
        contenttype: "json",
      })}`,
    );
    const post = async (change: (url: URL) => void, body = '{"GroupId":"@TGS#2AUTH"}') => {
      const url = new URL(good);
      change(url);
      const answer = (await (await fetch(url, { method: "POST", body })).json()) as Record<string, unknown>;
      return answer.ErrorCode;
    };

    expect(await post(() => {})).toBe(0);
    expect(await post((u) => u.searchParams.delete("sdkappid"))).toBe(60012);
    expect(await post((u) => u.searchParams.set("sdkappid", "1400000000"))).toBe(60006);
    expect(await post((u) => u.searchParams.delete("usersig"))).toBe(70002);
    expect(await post((u) => u.searchParams.set("usersig", "garbage"))).toBe(70003);
    expect(await post((u) => u.searchParams.set("identifier", "alice"))).toBe(70013);
    expect(await post((u) => u.searchParams.delete("random"))).toBe(60002);
    expect(await post((u) => u.searchParams.set("contenttype", "xml"))).toBe(60002);
    expect(await post((u) => (u.pathname = "/v4/group_open_http_svc/no_such_api"))).toBe(60009);
    expect(await post(() => {}, "{not json")).toBe(60003);
    expect(await post(() => {}, "{}")).toBe(10004);
    expect(await post(() => {}, '{"GroupId":"@TGS#2AUTH","Limit":201}')).toBe(10004);
  });
});

/** The UserSig a client puts in its URL. */
async function captureUserSig(): Promise<string | undefined> {
  const calls: { query: URLSearchParams; body: Record<string, unknown> }[] = [];
  await restClient({ fetch: recordingFetch(calls) }).getGroupMemberInfo("@TGS#2AUTH", { limit: 1 });
  return calls[0]?.query.get("usersig") ?? undefined;
}

describe("npm run backfill", () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/backfill-group.ts", ...args], {
        env: {
          PATH: process.env.PATH ?? "",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.once("error", reject);
      child.once("exit", (code) => resolve({ code, stdout, stderr }));
    });

  const environment = () => ({
    CHATPUSH_TABLE_NAME: tableName,
    CHATPUSH_SDK_APP_ID: String(SDK_APP_ID),
    CHATPUSH_SECRET_KEY: SECRET_KEY,
    CHATPUSH_TENCENT_API: tencent.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });

  it("backfills each group named, printing members and pages, and fails on a group that fails", async () => {
    tencent.setGroupMembers("@TGS#2CLI", accounts(205, "cli"));
    tencent.setGroupMembers("@TGS#_@TGS#cCLI", accounts(40, "fan"));

    const result = await run(["@TGS#2CLI", "@TGS#2MISSING", "@TGS#_@TGS#cCLI"], environment());

    expect(result.stdout).toContain("@TGS#2CLI: 205 members, 3 pages");
    expect(result.stdout).toContain("@TGS#_@TGS#cCLI: 40 members, 1 pages");
    expect(result.stderr).toMatch(/@TGS#2MISSING: failed: .*ErrorCode 10010/);
    expect(result.code).toBe(1);
    expect(await mirrored("@TGS#2CLI")).toEqual(accounts(205, "cli"));
    expect(await mirrored("@TGS#_@TGS#cCLI")).toEqual(accounts(40, "fan"));
  }, 30_000);

  it("names the missing variable", async () => {
    const { CHATPUSH_TENCENT_API: _, ...withoutApi } = environment();
    const result = await run(["@TGS#2CLI"], withoutApi);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("CHATPUSH_TENCENT_API is not set");
  }, 30_000);
});
