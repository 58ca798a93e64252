import { createRequire } from "node:module";

/** Tencent's own UserSig generator (tls-sig-api-v2): what an app server hands its apps. */
const { Api } = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkAppId: number, key: string) => { genUserSig(userId: string, expire: number): string };
};

export function tencentUserSig(
  sdkAppId: number,
  secretKey: string,
  userId: string,
  expireSeconds = 86_400,
): string {
  return new Api(sdkAppId, secretKey).genUserSig(userId, expireSeconds);
}
