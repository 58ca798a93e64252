import { callbackSign } from "../lib/tencent/sign.js";
import { makeUserSig } from "../lib/tencent/usersig.js";
import type { DeviceSample } from "./events.js";
import type { DeadLetter, TimedJournalEntry } from "./runtime.js";
import type { FaultRule, SimulatedDelivery } from "./simulators/hub.js";

/**
 * A small client for a running chatpush (the local runtime, or a deployed function URL for the
 * callback and device API): what replay, the end-to-end tests and the README's examples use.
 */
export interface ClientOptions {
  baseUrl: string;
  sdkAppId: string;
  /** Empty or undefined: post unsigned callbacks. */
  callbackToken?: string;
  /** Used to mint UserSigs for the device API (an admin-side helper; apps get theirs from the app server). */
  secretKey?: string;
}

export interface PostResult {
  status: number;
  body: string;
}

export class ChatpushClient {
  constructor(private readonly options: ClientOptions) {}

  /** The callback URL with the query Tencent appends, signed the way Tencent signs it. */
  callbackUrl(query: Record<string, string>, requestTime = Math.floor(Date.now() / 1000)): string {
    const url = new URL("/callback", this.options.baseUrl);
    url.searchParams.set("SdkAppid", this.options.sdkAppId);
    url.searchParams.set("contenttype", "json");
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    if (this.options.callbackToken) {
      url.searchParams.set("RequestTime", String(requestTime));
      url.searchParams.set("Sign", callbackSign(this.options.callbackToken, String(requestTime)));
    }
    return url.toString();
  }

  async postCallback(
    query: Record<string, string>,
    body: unknown,
    requestTime?: number,
  ): Promise<PostResult> {
    const response = await fetch(this.callbackUrl(query, requestTime), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.text() };
  }

  userSig(userId: string, expireSeconds = 86_400): string {
    if (!this.options.secretKey) throw new Error("a secretKey is needed to make UserSigs");
    return makeUserSig({
      sdkAppId: Number(this.options.sdkAppId),
      secretKey: this.options.secretKey,
      identifier: userId,
      expireSeconds,
      nowMs: Date.now(),
    });
  }

  /** Calls the device API as `userId` (`userSig` overrides the minted one). */
  async deviceApi(
    method: string,
    path: string,
    userId: string,
    body?: unknown,
    userSig = this.userSig(userId),
  ): Promise<PostResult> {
    const response = await fetch(new URL(path, this.options.baseUrl), {
      method,
      headers: { authorization: `UserSig ${userSig}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: await response.text() };
  }

  /**
   * Tencent's REST push API (`/v4/timpush/batch`, `/v4/all_member_push/im_add_tag`, …) as an app server
   * calls it: `?sdkappid&identifier&usersig&random&contenttype=json`, the admin's UserSig minted with
   * the secret key unless `userSig` is given. Resolves with the HTTP status and Tencent's answer body.
   */
  async restPush(
    path: string,
    body: unknown,
    options: { identifier?: string; userSig?: string } = {},
  ): Promise<{ status: number; answer: Record<string, unknown> & { ErrorCode?: number; TaskId?: string } }> {
    const identifier = options.identifier ?? "administrator";
    const url = new URL(path, this.options.baseUrl);
    url.searchParams.set("sdkappid", this.options.sdkAppId);
    url.searchParams.set("identifier", identifier);
    url.searchParams.set("usersig", options.userSig ?? this.userSig(identifier));
    url.searchParams.set("random", String(Math.floor(Math.random() * 4_294_967_295)));
    url.searchParams.set("contenttype", "json");
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      answer = { ActionStatus: "FAIL", ErrorInfo: text };
    }
    return { status: response.status, answer };
  }

  registerDevice(userId: string, deviceId: string, registration: unknown): Promise<PostResult> {
    return this.deviceApi("PUT", `/v1/devices/${encodeURIComponent(deviceId)}`, userId, registration);
  }

  setPresence(userId: string, presence: { state: "foreground" | "background"; unreadCount?: number }) {
    return this.deviceApi("PUT", "/v1/presence", userId, presence);
  }

  setConversationOpt(userId: string, conversationId: string, receiveOpt: number) {
    const path = `/v1/preferences/conversations/${encodeURIComponent(conversationId)}`;
    return this.deviceApi("PUT", path, userId, { receiveOpt });
  }

  setGlobalOpt(userId: string, opt: Record<string, unknown>) {
    return this.deviceApi("PUT", "/v1/preferences/all", userId, opt);
  }

  /** Registers a sample device and reports its app state and the user's receive options. */
  async seedDevice(sample: DeviceSample): Promise<void> {
    const check = (what: string, result: PostResult, status: number) => {
      if (result.status !== status) throw new Error(`${sample.file}: ${what} failed: ${result.body}`);
    };
    check(
      "registration",
      await this.registerDevice(sample.userId, sample.deviceId, sample.registration),
      200,
    );
    if (sample.presence) check("presence", await this.setPresence(sample.userId, sample.presence), 204);
    for (const [conversationId, opt] of Object.entries(sample.preferences?.conversations ?? {})) {
      check("preference", await this.setConversationOpt(sample.userId, conversationId, opt), 204);
    }
    if (sample.preferences?.all)
      check("do-not-disturb", await this.setGlobalOpt(sample.userId, sample.preferences.all), 204);
  }

  async deliveries(): Promise<SimulatedDelivery[]> {
    return (await this.localJson("GET", "/_local/deliveries")) as SimulatedDelivery[];
  }

  async clearDeliveries(): Promise<void> {
    await this.localJson("DELETE", "/_local/deliveries");
  }

  async journal(): Promise<TimedJournalEntry[]> {
    return (await this.localJson("GET", "/_local/journal")) as TimedJournalEntry[];
  }

  async addFault(rule: Omit<FaultRule, "count"> & { count?: number }): Promise<void> {
    await this.localJson("POST", "/_local/faults", rule);
  }

  async deadLetters(vendor: string): Promise<DeadLetter[]> {
    return (await this.localJson("GET", `/_local/dead-letters/${vendor}`)) as DeadLetter[];
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(new URL("/healthz", this.options.baseUrl))).ok;
    } catch {
      return false;
    }
  }

  private async localJson(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(new URL(path, this.options.baseUrl), {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
        : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text === "" ? undefined : JSON.parse(text);
  }
}

/** Polls `check` until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
