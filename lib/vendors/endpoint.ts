/**
 * Where a vendor request goes. Deployed, to the vendor's own URL. With a credential's
 * `endpoint.url` (the local simulator, or a proxy), to that base URL instead — carrying the URL it
 * would have gone to in `REAL_URL_HEADER`, so the simulator can enforce the vendor's host rules
 * (an overseas OPPO regId at the China host, a Xiaomi app at the wrong region) and
 * `GET /_local/deliveries` can show each request's real `endpoint`.
 */
export const REAL_URL_HEADER = "x-chatpush-vendor-url";

export interface VendorUrl {
  /** What to send the request to. */
  url: string;
  /** Headers to add: the real URL when an override redirected it, else none. */
  headers: Record<string, string>;
}

/** `realUrl` (absolute), or the same path and query under `overrideBase` with the real URL as a header. */
export function vendorUrl(realUrl: string, overrideBase: string | undefined): VendorUrl {
  if (overrideBase === undefined) return { url: realUrl, headers: {} };
  const real = new URL(realUrl);
  const base = overrideBase.replace(/\/+$/, "");
  return { url: `${base}${real.pathname}${real.search}`, headers: { [REAL_URL_HEADER]: realUrl } };
}
