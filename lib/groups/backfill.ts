import type { Clock, GroupStore } from "../ports/index.js";
import { type MemberInfoPage, type TencentRestClient, TencentRestError } from "../tencent/rest-client.js";

export interface BackfillDeps {
  rest: TencentRestClient;
  groups: GroupStore;
  clock: Clock;
  /** Members per `get_group_member_info` call: default 100 (Tencent's recommendation, Community's maximum). */
  pageSize?: number;
}

export interface BackfillResult {
  /** The group's name as Tencent has it (get_group_info), stored as the title of its pushes. */
  name?: string;
  /** Distinct members written to the store. */
  members: number;
  /** `get_group_member_info` calls that succeeded (retries of a failed call not counted). */
  pages: number;
}

/** Community groups' ids start with this; they page with `Next` and at most 100 members (§5.7). */
const COMMUNITY_PREFIX = "@TGS#_";
const DEFAULT_PAGE_SIZE = 100;
const COMMUNITY_MAX_PAGE = 100;
/**
 * `get_group_member_info` allows 200 calls/s per app (§5.7). The backfill takes at most half, so the
 * app's other callers of the same API keep the rest: 100,000 members at 100 a page take 10 s.
 */
const CALLS_PER_SECOND = 100;
const MAX_ATTEMPTS = 5;
const FIRST_RETRY_MS = 250;

/**
 * Seeds the membership mirror of a group that existed before chatpush received its callbacks: pages
 * through `get_group_member_info` one call at a time, writing each page to the store as it arrives.
 * Ordinary groups page by Offset and stop at a short page (or once MemberNum members were read, which
 * saves an empty last call when the count is a multiple of the page size); Community groups page by
 * `Next` until it comes back empty.
 *
 * It only adds: members who join or leave while it runs reach the store through the group callbacks,
 * and a member an Offset shift shows twice is written twice (the store's adds are idempotent).
 */
export async function backfillGroupMembers(groupId: string, deps: BackfillDeps): Promise<BackfillResult> {
  const community = groupId.startsWith(COMMUNITY_PREFIX);
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxPage = community ? COMMUNITY_MAX_PAGE : Number.POSITIVE_INFINITY;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPage) {
    throw new RangeError(
      `pageSize must be an integer from 1${community ? ` to ${maxPage}` : ""}, got ${pageSize}`,
    );
  }
  const pace = pacer(deps.clock, 1000 / CALLS_PER_SECOND);
  // The name first: a backfilled group's pushes are titled with it, not with its id. A newer group
  // callback already stored wins (putGroup keeps the newest updatedAt).
  const [info] = await withRetries(async () => {
    await pace();
    return deps.rest.getGroupInfo([groupId]);
  });
  if (info !== undefined) {
    await deps.groups.putGroup({
      groupId,
      updatedAt: deps.clock.now(),
      ...(info.name !== undefined ? { name: info.name } : {}),
      ...(info.type !== undefined ? { type: info.type } : {}),
    });
  }
  const seen = new Set<string>();
  let pages = 0;
  let offset = 0;
  let next = "";

  for (;;) {
    const page = await withRetries(async () => {
      await pace();
      return deps.rest.getGroupMemberInfo(
        groupId,
        community ? { limit: pageSize, next } : { limit: pageSize, offset },
      );
    });
    pages += 1;
    if (page.members.length > 0) await deps.groups.addMembers(groupId, page.members, deps.clock.now());
    for (const member of page.members) seen.add(member);
    offset += page.members.length;

    if (community) {
      if (page.next === undefined) break;
      if (page.next === next) throw new Error(`get_group_member_info repeated Next for ${groupId}`);
      next = page.next;
    } else if (isLastOrdinaryPage(page, pageSize, offset)) {
      break;
    }
  }
  return { ...(info?.name !== undefined ? { name: info.name } : {}), members: seen.size, pages };
}

function isLastOrdinaryPage(page: MemberInfoPage, pageSize: number, offset: number): boolean {
  return page.members.length < pageSize || (page.memberNum !== undefined && offset >= page.memberNum);
}

/** Spaces call starts at least `intervalMs` apart; one call is in flight at a time anyway. */
function pacer(clock: Clock, intervalMs: number): () => Promise<void> {
  let last: number | undefined;
  return async () => {
    if (last !== undefined) {
      const wait = last + intervalMs - clock.now();
      if (wait > 0) await sleep(wait);
    }
    last = clock.now();
  };
}

/** Retries Tencent's rate-limit, timeout and network errors with backoff; anything else fails at once. */
async function withRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TencentRestError) || !error.retryable || attempt >= MAX_ATTEMPTS) throw error;
      await sleep(FIRST_RETRY_MS * 2 ** (attempt - 1));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
