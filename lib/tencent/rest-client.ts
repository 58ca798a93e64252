import { randomInt } from "node:crypto";
import { type Clock, type ProfileDirectory, systemClock } from "../ports/index.js";
import { makeUserSig } from "./usersig.js";

/**
 * Tencent Cloud Chat's server REST API (tencent-chat.md §5.1): POST
 * `/v4/<service>/<command>?sdkappid=…&identifier=<admin>&usersig=…&random=…&contenttype=json` with a
 * JSON body; the answer is HTTP 200 with `{ActionStatus, ErrorCode, ErrorInfo}` whether it worked or not.
 */

export interface TencentRestClientOptions {
  /** Region domain with scheme, e.g. https://adminapisgp.im.qcloud.com (§5.1 "Domains"). */
  baseUrl: string;
  sdkAppId: number;
  /** An app admin account: REST calls under any other identifier fail with 60010. */
  adminIdentifier: string;
  /** The app's UserSig secret key. */
  secretKey: string;
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface MemberPageRequest {
  /** Members per page: Tencent recommends 100 for ordinary groups; Community groups allow at most 100. */
  limit: number;
  /** Ordinary groups: members to skip. */
  offset?: number;
  /** Community groups (`@TGS#_…`): `""` for the first page, then the previous answer's `next`. */
  next?: string;
}

export interface MemberInfoPage {
  /** The group's member count, when Tencent reports it. */
  memberNum?: number;
  /** `Member_Account` of each member on the page, in Tencent's order. */
  members: string[];
  /** Community groups: where the next page starts; absent (or Tencent's `""`) after the last page. */
  next?: string;
}

/** A group's base info from get_group_info. */
export interface GroupBaseInfo {
  groupId: string;
  name?: string;
  type?: string;
}

/** The nickname tag (tencent-chat.md §2.7, §5.8). */
const NICKNAME_TAG = "Tag_Profile_IM_Nick";
/** §5.8: up to 100 users per portrait_get call. */
const PORTRAIT_GET_BATCH = 100;
/** get_group_info: up to 50 groups per call (https://www.tencentcloud.com/document/product/1047/34961). */
const GROUP_INFO_BATCH = 50;

/**
 * A REST call that Tencent refused (`ActionStatus: "FAIL"` or a non-zero `ErrorCode`), or that got no
 * usable answer (`httpStatus` not 200, 0 for a network error or timeout).
 */
export class TencentRestError extends Error {
  readonly api: string;
  readonly errorCode: number | undefined;
  readonly errorInfo: string;
  readonly httpStatus: number;

  constructor(opts: { api: string; errorCode?: number; errorInfo: string; httpStatus: number }) {
    const code = opts.errorCode !== undefined ? `ErrorCode ${opts.errorCode}` : `HTTP ${opts.httpStatus}`;
    super(`Tencent REST ${opts.api} failed: ${code} (${opts.errorInfo})`);
    this.name = "TencentRestError";
    this.api = opts.api;
    this.errorCode = opts.errorCode;
    this.errorInfo = opts.errorInfo;
    this.httpStatus = opts.httpStatus;
  }

  /** Worth retrying after a pause: rate limits, Tencent's timeouts, 5xx and network errors. */
  get retryable(): boolean {
    if (this.errorCode !== undefined) return RETRYABLE_CODES.has(this.errorCode);
    return this.httpStatus === 0 || this.httpStatus === 429 || this.httpStatus >= 500;
  }
}

/** 60007 / 60011 / 60018 / 60019 rate limits, 60008 timeout (§5.1 "Common errors"). */
const RETRYABLE_CODES = new Set([60007, 60008, 60011, 60018, 60019]);
/** Tencent gives a REST call 3 s on its side (§5.1 "Timeout"): wait longer than that. */
const REQUEST_TIMEOUT_MS = 10_000;
/** A day, the validity §6 recommends at least; the sig travels in URLs, so not the SDK's 180 days. */
const ADMIN_USERSIG_SECONDS = 86_400;
/** Issue a new admin UserSig this long before the current one expires (clock skew, slow requests). */
const USERSIG_RENEW_MARGIN_MS = 60 * 60 * 1000;

export class TencentRestClient implements ProfileDirectory {
  private readonly baseUrl: string;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;
  private adminSig?: { userSig: string; renewAt: number };

  constructor(private readonly options: TencentRestClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.clock = options.clock ?? systemClock;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** `v4/group_open_http_svc/get_group_member_info` (§5.7), asking for the least member info there is. */
  async getGroupMemberInfo(groupId: string, page: MemberPageRequest): Promise<MemberInfoPage> {
    const answer = await this.call("group_open_http_svc", "get_group_member_info", {
      GroupId: groupId,
      Limit: page.limit,
      ...(page.offset !== undefined ? { Offset: page.offset } : {}),
      ...(page.next !== undefined ? { Next: page.next } : {}),
      // Without a filter Tencent returns every field of every member; Member_Account always comes back.
      MemberInfoFilter: ["Role"],
    });
    const list = Array.isArray(answer.MemberList) ? answer.MemberList : [];
    const members: string[] = [];
    for (const member of list) {
      const account = (member as { Member_Account?: unknown } | null)?.Member_Account;
      if (typeof account === "string" && account !== "") members.push(account);
    }
    return {
      ...(typeof answer.MemberNum === "number" ? { memberNum: answer.MemberNum } : {}),
      members,
      ...(typeof answer.Next === "string" && answer.Next !== "" ? { next: answer.Next } : {}),
    };
  }

  /**
   * `v4/profile/portrait_get` (§5.8) for the nickname tag, 100 accounts per call. An account Tencent
   * does not know (ResultCode 40003, `Fail_Account`) or without a nickname maps to undefined.
   */
  async nicknames(userIds: readonly string[]): Promise<Map<string, string | undefined>> {
    const found = new Map<string, string | undefined>();
    const unique = [...new Set(userIds)];
    for (let i = 0; i < unique.length; i += PORTRAIT_GET_BATCH) {
      const batch = unique.slice(i, i + PORTRAIT_GET_BATCH);
      const answer = await this.call("profile", "portrait_get", {
        To_Account: batch,
        TagList: [NICKNAME_TAG],
      });
      for (const userId of batch) found.set(userId, undefined);
      for (const item of Array.isArray(answer.UserProfileItem) ? answer.UserProfileItem : []) {
        const { To_Account, ProfileItem } = (item ?? {}) as { To_Account?: unknown; ProfileItem?: unknown };
        if (typeof To_Account !== "string" || !Array.isArray(ProfileItem)) continue;
        const nick = ProfileItem.find((p) => (p as { Tag?: unknown } | null)?.Tag === NICKNAME_TAG) as
          | { Value?: unknown }
          | undefined;
        if (typeof nick?.Value === "string" && nick.Value !== "") found.set(To_Account, nick.Value);
      }
    }
    return found;
  }

  /**
   * `v4/group_open_http_svc/get_group_info` (1047/34961) for the groups' names and types, 50 per call.
   * A group Tencent does not know (its item's ErrorCode ≠ 0) is left out.
   */
  async getGroupInfo(groupIds: readonly string[]): Promise<GroupBaseInfo[]> {
    const infos: GroupBaseInfo[] = [];
    for (let i = 0; i < groupIds.length; i += GROUP_INFO_BATCH) {
      const answer = await this.call("group_open_http_svc", "get_group_info", {
        GroupIdList: groupIds.slice(i, i + GROUP_INFO_BATCH),
        ResponseFilter: { GroupBaseInfoFilter: ["Type", "Name"] },
      });
      for (const item of Array.isArray(answer.GroupInfo) ? answer.GroupInfo : []) {
        const { GroupId, ErrorCode, Name, Type } = (item ?? {}) as Record<string, unknown>;
        if (typeof GroupId !== "string" || (ErrorCode !== undefined && ErrorCode !== 0)) continue;
        infos.push({
          groupId: GroupId,
          ...(typeof Name === "string" && Name !== "" ? { name: Name } : {}),
          ...(typeof Type === "string" && Type !== "" ? { type: Type } : {}),
        });
      }
    }
    return infos;
  }

  /** One REST call; resolves with the answer's JSON when Tencent says OK, else throws TencentRestError. */
  async call(
    service: string,
    command: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const api = `v4/${service}/${command}`;
    const query = new URLSearchParams({
      sdkappid: String(this.options.sdkAppId),
      identifier: this.options.adminIdentifier,
      usersig: this.userSig(),
      random: String(randomInt(0, 2 ** 32)),
      contenttype: "json",
    });
    let status: number;
    let text: string;
    try {
      const response = await this.fetch(`${this.baseUrl}/${api}?${query}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      // Never the URL: it carries the admin UserSig.
      throw new TencentRestError({ api, errorInfo: errorText(error), httpStatus: 0 });
    }
    if (status !== 200) {
      throw new TencentRestError({ api, errorInfo: text.slice(0, 200) || "no body", httpStatus: status });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TencentRestError({ api, errorInfo: "answer is not JSON", httpStatus: status });
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new TencentRestError({ api, errorInfo: "answer is not a JSON object", httpStatus: status });
    }
    const answer = json as Record<string, unknown>;
    const errorCode = typeof answer.ErrorCode === "number" ? answer.ErrorCode : undefined;
    if (answer.ActionStatus !== "OK" || (errorCode !== undefined && errorCode !== 0)) {
      throw new TencentRestError({
        api,
        ...(errorCode !== undefined ? { errorCode } : {}),
        errorInfo:
          typeof answer.ErrorInfo === "string" ? answer.ErrorInfo : `ActionStatus ${answer.ActionStatus}`,
        httpStatus: status,
      });
    }
    return answer;
  }

  /** The admin UserSig, issued once and reused until an hour before it expires (§5.1 "Identity"). */
  private userSig(): string {
    const now = this.clock.now();
    if (this.adminSig === undefined || now >= this.adminSig.renewAt) {
      this.adminSig = {
        userSig: makeUserSig({
          sdkAppId: this.options.sdkAppId,
          secretKey: this.options.secretKey,
          identifier: this.options.adminIdentifier,
          expireSeconds: ADMIN_USERSIG_SECONDS,
          nowMs: now,
        }),
        renewAt: now + ADMIN_USERSIG_SECONDS * 1000 - USERSIG_RENEW_MARGIN_MS,
      };
    }
    return this.adminSig.userSig;
  }
}

/** fetch's "fetch failed" hides the socket error in `cause`; the message should name it. */
function errorText(error: unknown): string {
  const { message, cause } = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const detail = cause?.code ?? cause?.message;
  return (
    [message, detail].filter((part) => typeof part === "string" && part !== "").join(": ") || "no answer"
  );
}
