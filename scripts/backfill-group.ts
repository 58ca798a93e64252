import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { backfillGroupMembers } from "../lib/groups/backfill.js";
import { systemClock } from "../lib/ports/index.js";
import { TencentRestClient } from "../lib/tencent/rest-client.js";

/**
 * `npm run backfill -- <groupId>...`: copies the members of groups that existed before chatpush got
 * their callbacks from Tencent (`get_group_member_info`) into the group mirror.
 *
 * DynamoDB is reached through the AWS SDK's default credential chain and region, so a team runs it
 * against the deployed table with its usual profile; AWS_ENDPOINT_URL_DYNAMODB points it at a local one.
 */

const USAGE = "usage: npm run backfill -- <groupId>...";

interface BackfillConfig {
  tableName: string;
  sdkAppId: number;
  secretKey: string;
  tencentApi: string;
  adminIdentifier: string;
}

function readConfig(env: NodeJS.ProcessEnv): BackfillConfig {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const tableName = required("CHATPUSH_TABLE_NAME");
  const sdkAppIdText = required("CHATPUSH_SDK_APP_ID");
  const sdkAppId = Number(sdkAppIdText);
  if (!/^\d+$/.test(sdkAppIdText) || !Number.isSafeInteger(sdkAppId)) {
    throw new Error(
      `CHATPUSH_SDK_APP_ID must be the app's numeric SDKAppID, got ${JSON.stringify(sdkAppIdText)}`,
    );
  }
  const secretKey = required("CHATPUSH_SECRET_KEY");
  const tencentApi = required("CHATPUSH_TENCENT_API");
  if (!/^https?:\/\/[^/?#]+\/?$/.test(tencentApi)) {
    throw new Error(
      `CHATPUSH_TENCENT_API must be a base URL such as https://adminapisgp.im.qcloud.com, got ${JSON.stringify(tencentApi)}`,
    );
  }
  const adminIdentifier = env.CHATPUSH_ADMIN_IDENTIFIER?.trim() || "administrator";
  return { tableName, sdkAppId, secretKey, tencentApi, adminIdentifier };
}

async function main(groupIds: string[]): Promise<number> {
  if (groupIds.length === 0) {
    console.error(USAGE);
    return 2;
  }
  let config: BackfillConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    console.error(`backfill: ${(error as Error).message}`);
    return 2;
  }
  const rest = new TencentRestClient({
    baseUrl: config.tencentApi,
    sdkAppId: config.sdkAppId,
    adminIdentifier: config.adminIdentifier,
    secretKey: config.secretKey,
  });
  const dynamo = new DynamoDBClient({});
  const groups = new DynamoGroupStore(documentClient(dynamo), config.tableName);
  let failed = 0;
  try {
    for (const groupId of groupIds) {
      try {
        const { members, pages } = await backfillGroupMembers(groupId, { rest, groups, clock: systemClock });
        console.log(`${groupId}: ${members} members, ${pages} pages`);
      } catch (error) {
        failed += 1;
        // TencentRestError messages name the API and ErrorCode, never the URL (it carries the UserSig).
        console.error(`${groupId}: failed: ${(error as Error).message}`);
      }
    }
  } finally {
    dynamo.destroy();
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
