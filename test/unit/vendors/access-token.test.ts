import { describe, expect, it } from "vitest";
import { AccessTokenCache, REFRESH_MARGIN_SECONDS } from "../../../lib/vendors/access-token.js";
import { FixedClock } from "../../support/fakes.js";

function counting() {
  let issued = 0;
  const fetchToken = async () => {
    issued += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { token: `t${issued}`, expiresInSeconds: 3600 };
  };
  return { fetchToken, issued: () => issued };
}

describe("AccessTokenCache", () => {
  it("fetches once for many concurrent callers and reuses the token", async () => {
    const vendor = counting();
    const cache = new AccessTokenCache(vendor.fetchToken, new FixedClock(0));
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual(["t1", "t1", "t1"]);
    expect(await cache.get()).toBe("t1");
    expect(vendor.issued()).toBe(1);
  });

  it("refreshes before the token expires", async () => {
    const vendor = counting();
    const clock = new FixedClock(0);
    const cache = new AccessTokenCache(vendor.fetchToken, clock);
    await cache.get();
    clock.nowMs = (3600 - REFRESH_MARGIN_SECONDS - 1) * 1000;
    expect(await cache.get()).toBe("t1");
    clock.nowMs = (3600 - REFRESH_MARGIN_SECONDS) * 1000;
    expect(await cache.get()).toBe("t2");
  });

  it("drops a token the vendor refused, but not a newer one", async () => {
    const vendor = counting();
    const cache = new AccessTokenCache(vendor.fetchToken, new FixedClock(0));
    await cache.get();
    cache.invalidate("t1");
    expect(await cache.get()).toBe("t2");
    cache.invalidate("t1");
    expect(await cache.get()).toBe("t2");
  });

  it("tries again after a failed fetch", async () => {
    let fail = true;
    const cache = new AccessTokenCache(async () => {
      if (fail) throw new Error("auth endpoint down");
      return { token: "ok", expiresInSeconds: 3600 };
    }, new FixedClock(0));
    await expect(cache.get()).rejects.toThrow("auth endpoint down");
    fail = false;
    expect(await cache.get()).toBe("ok");
  });
});
