import { readFile } from "node:fs/promises";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Device } from "../../lib/model/index.js";

/**
 * The local page (`GET /`): plain files served as they are, no build step. Only these names are
 * served, so no request path reaches the file system.
 */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/page/page.css": { file: "page.css", type: "text/css; charset=utf-8" },
  "/page/page.js": { file: "page.js", type: "text/javascript; charset=utf-8" },
};

/** The page file a `GET` of `pathname` serves, read fresh (edit and reload), or undefined. */
export async function pageAsset(pathname: string): Promise<{ type: string; body: Buffer } | undefined> {
  const asset = Object.hasOwn(ASSETS, pathname) ? ASSETS[pathname] : undefined;
  if (asset === undefined) return undefined;
  return { type: asset.type, body: await readFile(new URL(asset.file, import.meta.url)) };
}

/** One registered device as `GET /_local/devices` lists it: the page maps deliveries' tokens to phones. */
export type LocalDevice = Pick<
  Device,
  "userId" | "deviceId" | "vendor" | "token" | "platform" | "pushType" | "environment" | "locale"
>;

/**
 * Every registered device with its token (local only: the device API never answers a token). The
 * users are found by one Scan of the user items; their devices are read through the user store, so
 * they are what routing sees.
 */
export async function registeredDevices(
  client: DynamoDBDocumentClient,
  tableName: string,
  users: { list(userId: string): Promise<Device[]> },
): Promise<LocalDevice[]> {
  const userIds: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: "#pk",
        FilterExpression: "#sk = :user AND begins_with(#pk, :prefix)",
        ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
        ExpressionAttributeValues: { ":user": "USER", ":prefix": "USER#" },
        ...(start !== undefined && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of page.Items ?? []) userIds.push(String(item.pk).slice("USER#".length));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);

  const devices = (await Promise.all(userIds.sort().map((userId) => users.list(userId)))).flat();
  return devices.map(({ userId, deviceId, vendor, token, platform, pushType, environment, locale }) => ({
    userId,
    deviceId,
    vendor,
    token,
    ...(platform !== undefined && { platform }),
    ...(pushType !== undefined && { pushType }),
    ...(environment !== undefined && { environment }),
    ...(locale !== undefined && { locale }),
  }));
}
