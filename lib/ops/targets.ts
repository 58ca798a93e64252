import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { SQSClient } from "@aws-sdk/client-sqs";

/** A queue and the dead-letter queue behind it. */
export interface QueueUrls {
  url: string;
  dlqUrl: string;
}

/** What the operations scripts (redrive, why, doctor) talk to: the local runtime or a deployed stack. */
export interface OpsTarget {
  kind: "local" | "aws";
  /** Where it is, in words, for the scripts' first line. */
  description: string;
  sqs: SQSClient;
  /** By queue name: "ingest" and each vendor. */
  queues: Record<string, QueueUrls>;
  /** Everything else the stack outputs (TableName, CallbackUrl, …) or the runtime reports. */
  outputs: Record<string, string>;
}

/** The local runtime's answer to `GET /_local/ops`. */
export interface LocalOpsInfo {
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  tableName: string;
  queues: Record<string, QueueUrls>;
}

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** The running `npm start` at `baseUrl` (e.g. http://127.0.0.1:8787). */
export async function localTarget(baseUrl: string): Promise<OpsTarget> {
  let info: LocalOpsInfo;
  try {
    const response = await fetch(`${baseUrl.replace(/\/+$/, "")}/_local/ops`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    info = (await response.json()) as LocalOpsInfo;
  } catch (error) {
    throw new Error(`no local runtime at ${baseUrl} (${(error as Error).message}): start it with npm start`);
  }
  return {
    kind: "local",
    description: `the local runtime at ${baseUrl}`,
    sqs: new SQSClient({ endpoint: info.sqsEndpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS }),
    queues: info.queues,
    outputs: { TableName: info.tableName, DynamoDbEndpoint: info.dynamodbEndpoint },
  };
}

/**
 * A deployed stack, from its CloudFormation outputs (`<Vendor>QueueUrl`, `<Vendor>DeadLetterQueueUrl`,
 * `IngestQueueUrl`, …), with the AWS SDK's default credentials and region.
 */
export async function awsTarget(stackName: string): Promise<OpsTarget> {
  const cloudformation = new CloudFormationClient({});
  const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Record<string, string> = {};
  for (const output of Stacks[0]?.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
      outputs[output.OutputKey] = output.OutputValue;
    }
  }
  cloudformation.destroy();
  const queues: Record<string, QueueUrls> = {};
  for (const [key, url] of Object.entries(outputs)) {
    const match = /^(.+?)QueueUrl$/.exec(key);
    if (match === null || key.endsWith("DeadLetterQueueUrl")) continue;
    const name = match[1]!;
    const dlqUrl = outputs[`${name}DeadLetterQueueUrl`];
    if (dlqUrl !== undefined) queues[name.toLowerCase()] = { url, dlqUrl };
  }
  if (Object.keys(queues).length === 0) throw new Error(`stack ${stackName} has no queue outputs`);
  return { kind: "aws", description: `stack ${stackName}`, sqs: new SQSClient({}), queues, outputs };
}

/** `--stack <name>` → that deployed stack; otherwise the local runtime (`--local <url>`, PORT). */
export async function resolveTarget(args: { stack?: string; local?: string }): Promise<OpsTarget> {
  if (args.stack !== undefined) return awsTarget(args.stack);
  return localTarget(args.local ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`);
}
