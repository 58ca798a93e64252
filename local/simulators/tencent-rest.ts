import type { IncomingMessage, ServerResponse } from "node:http";
import { verifyUserSig } from "../../lib/tencent/usersig.js";
import { startSimulatorServer, writeJson } from "./http-server.js";
import { isObject, parseOrRaw, readBody } from "./wire.js";

/**
 * A local stand-in for Tencent Cloud Chat's REST API, serving `v4/group_open_http_svc/get_group_member_info`,
 * `v4/group_open_http_svc/get_group_info` and `v4/profile/portrait_get` with the checks Tencent makes
 * (tencent-chat.md §5.1, §5.7, §5.8, §6). Like Tencent it answers HTTP 200 with
 * `{ActionStatus: "FAIL", ErrorCode, ErrorInfo}` for every refusal.
 *
 * Codes the reference does not pin to one case, and what this simulator answers:
 * - a non-POST request, a missing `random`, or `contenttype` other than `json`: 60002 (HTTP parse error);
 * - a missing `identifier`: 60004; a missing `usersig`: 70002 (empty UserSig);
 * - a UserSig that does not decode: 70003; HMAC mismatch: 70009 (wrong key or app);
 * - `identifier` not an app admin: 60010;
 * - a group that does not exist: 10010 (listed for §5.4 without its meaning; Tencent's error-code page
 *   gives it as "the group does not exist or was disbanded");
 * - a missing `GroupId`, or `Limit` / `Offset` / `Next` out of the rules: 10004 (invalid parameter);
 * - ordinary groups: `Limit` at most 200 (§5.7's prose; its field table says 6000, so the simulator is
 *   the stricter of the two);
 * - more than 200 calls in one second (§5.7): 60007.
 * - portrait_get (§5.8): more than 100 accounts or an empty list: 40001 (the doc lists 40001 without
 *   its meaning; "request parameter error" is how Tencent's error-code page reads it); an account it
 *   does not know: in `Fail_Account` and an item with ResultCode 40003; an unknown tag: 40009.
 * - get_group_info (https://www.tencentcloud.com/document/product/1047/34961): more than 50 groups:
 *   10004; a group it does not know: an item with ErrorCode 10010.
 */

export interface TencentRestSimulatorOptions {
  sdkAppId: number;
  secretKey: string;
  /** Accounts that are app admins (Tencent refuses REST calls from others); default ["administrator"]. */
  adminIdentifiers?: string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: number;
}

export interface TencentRestSimulator {
  /** Plain-HTTP base URL, in place of https://adminapisgp.im.qcloud.com. */
  url: string;
  /** Creates the group or replaces its members; the first member is its Owner. */
  setGroupMembers(groupId: string, members: string[]): void;
  /** Sets the group's base info (get_group_info); the group must exist. */
  setGroupInfo(groupId: string, info: { Name?: string; Type?: string }): void;
  /** Imports the account (if new) and sets its profile items, e.g. `{Tag_Profile_IM_Nick: "Alice"}`. */
  setProfile(userId: string, items: Record<string, string | number>): void;
  /** Calls received per API path (`/v4/profile/portrait_get` …), whatever the answer. */
  calls(path: string): number;
  /** HTTP requests received so far, whatever the answer. */
  requests(): number;
  close(): Promise<void>;
}

const MEMBER_INFO_PATH = "/v4/group_open_http_svc/get_group_member_info";
const GROUP_INFO_PATH = "/v4/group_open_http_svc/get_group_info";
const PORTRAIT_GET_PATH = "/v4/profile/portrait_get";
/** §5.8: up to 100 users per portrait_get. */
const PORTRAIT_GET_MAX_ACCOUNTS = 100;
/** get_group_info takes up to 50 groups per call (1047/34961). */
const GROUP_INFO_MAX_GROUPS = 50;
/** Profile tags the simulator knows (standard tags, 1047/33520); custom tags start Tag_Profile_Custom_. */
const STANDARD_PROFILE_TAGS = new Set([
  "Tag_Profile_IM_Nick",
  "Tag_Profile_IM_Gender",
  "Tag_Profile_IM_BirthDay",
  "Tag_Profile_IM_Location",
  "Tag_Profile_IM_SelfSignature",
  "Tag_Profile_IM_AllowType",
  "Tag_Profile_IM_Language",
  "Tag_Profile_IM_Image",
  "Tag_Profile_IM_MsgSettings",
  "Tag_Profile_IM_AdminForbidType",
  "Tag_Profile_IM_Level",
  "Tag_Profile_IM_Role",
]);
const COMMUNITY_PREFIX = "@TGS#_";
/** §5.7: Community pages hold at most 100 members. */
const COMMUNITY_MAX_LIMIT = 100;
/** §5.7's prose (the field table says 6000). */
const ORDINARY_MAX_LIMIT = 200;
/** §5.7: 200 calls per second. */
const CALLS_PER_SECOND = 200;
/** This simulator's content type: a lower-case charset, unlike the vendor simulators'. */
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const MEMBER_FIELDS = [
  "Role",
  "JoinTime",
  "MsgSeq",
  "MsgFlag",
  "LastSendMsgTime",
  "MuteUntil",
  "NameCard",
] as const;
/** Epoch seconds the simulated members joined from (one second apart). */
const FIRST_JOIN_TIME = 1_700_000_000;

type Member = Record<(typeof MEMBER_FIELDS)[number], string | number> & { Member_Account: string };

interface Answer {
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

const fail = (ErrorCode: number, ErrorInfo: string): Answer => ({ ErrorCode, ErrorInfo });

export async function startTencentRestSimulator(
  opts: TencentRestSimulatorOptions,
): Promise<TencentRestSimulator> {
  const admins = new Set(opts.adminIdentifiers ?? ["administrator"]);
  const groups = new Map<string, Member[]>();
  const groupInfos = new Map<string, { Name?: string; Type?: string }>();
  const profiles = new Map<string, Record<string, string | number>>();
  const recentCalls: number[] = [];
  const callsByPath = new Map<string, number>();
  let requestCount = 0;

  const apis: Record<string, (request: unknown, raw: string) => Answer> = {
    [MEMBER_INFO_PATH]: (request, raw) => memberInfo(request, raw),
    [GROUP_INFO_PATH]: (request, raw) => groupInfo(request, raw),
    [PORTRAIT_GET_PATH]: (request, raw) => portraitGet(request, raw),
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    requestCount += 1;
    const path = new URL(request.url ?? "/", "http://simulator").pathname;
    callsByPath.set(path, (callsByPath.get(path) ?? 0) + 1);
    const body = await readBody(request);
    const answer = authenticate(request) ?? rateLimit() ?? apis[path]!(parseOrRaw(body), body);
    const ok = answer.ErrorCode === 0;
    const { ErrorCode, ErrorInfo, ...rest } = answer;
    writeJson(
      response,
      200,
      { ActionStatus: ok ? "OK" : "FAIL", ErrorCode, ErrorInfo, ...rest },
      JSON_HEADERS,
    );
  };

  /** §5.1 (URL and method) and §6 (the admin's UserSig). */
  const authenticate = (request: IncomingMessage): Answer | undefined => {
    const url = new URL(request.url ?? "/", "http://simulator");
    if (request.method !== "POST") return fail(60002, "HTTP parse error: REST calls are POST only");
    if (!Object.hasOwn(apis, url.pathname)) return fail(60009, `request URL/resource error: ${url.pathname}`);
    const q = url.searchParams;
    const sdkAppId = q.get("sdkappid");
    const identifier = q.get("identifier");
    const userSig = q.get("usersig");
    if (!sdkAppId) return fail(60012, "sdkappid is missing");
    if (sdkAppId !== String(opts.sdkAppId)) return fail(60006, `invalid SDKAppID ${sdkAppId}`);
    if (!identifier) return fail(60004, "identifier is missing");
    if (!userSig) return fail(70002, "usersig is empty");
    if (!q.get("random") || !/^\d{1,10}$/.test(q.get("random")!) || Number(q.get("random")) > 0xffffffff) {
      return fail(60002, "HTTP parse error: random must be an integer 0..4294967295");
    }
    if (q.get("contenttype") !== "json") return fail(60002, "HTTP parse error: contenttype must be json");

    const verified = verifyUserSig(userSig, {
      sdkAppId: opts.sdkAppId,
      secretKey: opts.secretKey,
      nowMs: Date.now(),
    });
    if (!verified.ok)
      return fail(userSigErrorCode(verified.error), `usersig check failed: ${verified.error}`);
    if (verified.identifier !== identifier) {
      return fail(70013, `usersig is for ${verified.identifier}, not for identifier ${identifier}`);
    }
    if (!admins.has(identifier)) return fail(60010, `${identifier} is not an app admin`);
    return undefined;
  };

  const rateLimit = (): Answer | undefined => {
    const now = Date.now();
    while (recentCalls.length > 0 && recentCalls[0]! <= now - 1000) recentCalls.shift();
    if (recentCalls.length >= CALLS_PER_SECOND)
      return fail(60007, "REST API call frequency exceeds the limit");
    recentCalls.push(now);
    return undefined;
  };

  /** §5.7. */
  const memberInfo = (request: unknown, raw: string): Answer => {
    if (!isObject(request)) return fail(60003, `JSON parse error: ${raw.slice(0, 80)}`);
    const { GroupId, Limit, Offset, Next, MemberInfoFilter, MemberRoleFilter } = request;
    if (typeof GroupId !== "string" || GroupId === "") return fail(10004, "GroupId is required");
    const members = groups.get(GroupId);
    if (members === undefined) return fail(10010, `group ${GroupId} does not exist or was disbanded`);
    const community = GroupId.startsWith(COMMUNITY_PREFIX);

    const maxLimit = community ? COMMUNITY_MAX_LIMIT : ORDINARY_MAX_LIMIT;
    if (
      Limit !== undefined &&
      !(Number.isInteger(Limit) && (Limit as number) >= 1 && (Limit as number) <= maxLimit)
    ) {
      return fail(10004, `Limit must be an integer from 1 to ${maxLimit}`);
    }
    const filter = MemberInfoFilter === undefined ? [...MEMBER_FIELDS] : MemberInfoFilter;
    if (!Array.isArray(filter) || !filter.every((f) => (MEMBER_FIELDS as readonly unknown[]).includes(f))) {
      return fail(10004, `MemberInfoFilter may name only ${MEMBER_FIELDS.join(", ")}`);
    }
    if (MemberRoleFilter !== undefined && !Array.isArray(MemberRoleFilter)) {
      return fail(10004, "MemberRoleFilter must be an array");
    }
    const selected =
      MemberRoleFilter === undefined ? members : members.filter((m) => MemberRoleFilter.includes(m.Role));

    let start: number;
    if (community) {
      if (Offset !== undefined && Offset !== 0)
        return fail(10004, "Community groups page with Next, not Offset");
      if (typeof Next !== "string") return fail(10004, 'Community groups need Next ("" for the first page)');
      const decoded = Next === "" ? 0 : decodeNext(GroupId, Next);
      if (decoded === undefined) return fail(10004, "Next is not one this group issued");
      start = decoded;
    } else {
      if (Offset !== undefined && !(Number.isInteger(Offset) && (Offset as number) >= 0)) {
        return fail(10004, "Offset must be a non-negative integer");
      }
      start = (Offset as number | undefined) ?? 0;
    }
    // Without Limit an ordinary group answers every member from Offset on; a Community page is capped.
    const limit = (Limit as number | undefined) ?? (community ? COMMUNITY_MAX_LIMIT : selected.length);
    const end = Math.min(selected.length, start + limit);
    const MemberList = selected.slice(start, end).map((member) => {
      const shown: Record<string, unknown> = { Member_Account: member.Member_Account };
      for (const field of filter as string[]) shown[field] = member[field as keyof Member];
      return shown;
    });
    return {
      ErrorCode: 0,
      ErrorInfo: "",
      MemberNum: members.length,
      MemberList,
      ...(community ? { Next: end < selected.length ? encodeNext(GroupId, end) : "" } : {}),
    };
  };

  /** 1047/34961: `GroupIdList` (≤ 50) and `ResponseFilter.GroupBaseInfoFilter`; one item per group. */
  const groupInfo = (request: unknown, raw: string): Answer => {
    if (!isObject(request)) return fail(60003, `JSON parse error: ${raw.slice(0, 80)}`);
    const { GroupIdList, ResponseFilter } = request;
    if (
      !Array.isArray(GroupIdList) ||
      GroupIdList.length === 0 ||
      !GroupIdList.every((g) => typeof g === "string")
    ) {
      return fail(10004, "GroupIdList must be a non-empty array of group ids");
    }
    if (GroupIdList.length > GROUP_INFO_MAX_GROUPS) {
      return fail(10004, `GroupIdList may hold at most ${GROUP_INFO_MAX_GROUPS} groups`);
    }
    const filter = isObject(ResponseFilter) ? ResponseFilter.GroupBaseInfoFilter : undefined;
    const wanted = Array.isArray(filter) ? new Set(filter as string[]) : undefined;
    const GroupInfo = (GroupIdList as string[]).map((GroupId) => {
      const members = groups.get(GroupId);
      if (members === undefined) {
        return { GroupId, ErrorCode: 10010, ErrorInfo: "group does not exist or was disbanded" };
      }
      const base: Record<string, unknown> = {
        Type: GroupId.startsWith(COMMUNITY_PREFIX) ? "Community" : "Public",
        ...groupInfos.get(GroupId),
        Owner_Account: members[0]?.Member_Account ?? "",
        MemberNum: members.length,
      };
      const shown = Object.fromEntries(
        Object.entries(base).filter(([field]) => wanted === undefined || wanted.has(field)),
      );
      return { GroupId, ErrorCode: 0, ErrorInfo: "", ...shown };
    });
    return { ErrorCode: 0, ErrorInfo: "", GroupInfo };
  };

  /** §5.8: `To_Account` (≤ 100) and `TagList`; one `UserProfileItem` per account. */
  const portraitGet = (request: unknown, raw: string): Answer => {
    if (!isObject(request)) return fail(60003, `JSON parse error: ${raw.slice(0, 80)}`);
    const { To_Account, TagList } = request;
    if (
      !Array.isArray(To_Account) ||
      To_Account.length === 0 ||
      !To_Account.every((a) => typeof a === "string")
    ) {
      return fail(40001, "To_Account must be a non-empty array of user ids");
    }
    if (To_Account.length > PORTRAIT_GET_MAX_ACCOUNTS) {
      return fail(40001, `To_Account may hold at most ${PORTRAIT_GET_MAX_ACCOUNTS} accounts`);
    }
    if (!Array.isArray(TagList) || TagList.length === 0)
      return fail(40001, "TagList must be a non-empty array");
    const unknown = (TagList as unknown[]).find(
      (tag) =>
        typeof tag !== "string" || !(STANDARD_PROFILE_TAGS.has(tag) || tag.startsWith("Tag_Profile_Custom_")),
    );
    if (unknown !== undefined) return fail(40009, `unknown profile tag ${JSON.stringify(unknown)}`);
    const failed: string[] = [];
    const UserProfileItem = (To_Account as string[]).map((account) => {
      const profile = profiles.get(account);
      if (profile === undefined) {
        failed.push(account);
        return { To_Account: account, ResultCode: 40003, ResultInfo: "account does not exist" };
      }
      const ProfileItem = (TagList as string[])
        .filter((tag) => profile[tag] !== undefined)
        .map((Tag) => ({ Tag, Value: profile[Tag] }));
      return { To_Account: account, ProfileItem, ResultCode: 0, ResultInfo: "" };
    });
    return {
      ErrorCode: 0,
      ErrorInfo: "",
      UserProfileItem,
      ...(failed.length > 0 ? { Fail_Account: failed } : {}),
    };
  };

  const server = await startSimulatorServer(opts, route);

  return {
    url: server.url,
    setGroupMembers(groupId, members) {
      groups.set(
        groupId,
        members.map((account, i) => ({
          Member_Account: account,
          Role: i === 0 ? "Owner" : "Member",
          JoinTime: FIRST_JOIN_TIME + i,
          MsgSeq: 0,
          MsgFlag: "AcceptAndNotify",
          LastSendMsgTime: 0,
          MuteUntil: 0,
          NameCard: "",
        })),
      );
    },
    setGroupInfo(groupId, info) {
      if (!groups.has(groupId)) throw new Error(`group ${groupId} has no members: setGroupMembers first`);
      groupInfos.set(groupId, { ...groupInfos.get(groupId), ...info });
    },
    setProfile(userId, items) {
      profiles.set(userId, { ...profiles.get(userId), ...items });
    },
    calls: (path) => callsByPath.get(path) ?? 0,
    requests: () => requestCount,
    close: () => server.close(),
  };
}

/** §6 "related error codes" for what `verifyUserSig` found. */
function userSigErrorCode(error: string): number {
  if (error.startsWith("expired")) return 70001;
  if (error.startsWith("sdk appid not match")) return 70014;
  if (error.startsWith("sig not match")) return 70009;
  return 70003;
}

/** Community's `Next` is opaque to clients; here it is the group and the index the next page starts at. */
function encodeNext(groupId: string, index: number): string {
  return Buffer.from(JSON.stringify([groupId, index]), "utf8").toString("base64");
}

function decodeNext(groupId: string, next: string): number | undefined {
  const value = parseOrRaw(Buffer.from(next, "base64").toString("utf8"));
  if (!Array.isArray(value) || value[0] !== groupId) return undefined;
  const index = value[1];
  return Number.isInteger(index) && index > 0 ? (index as number) : undefined;
}
