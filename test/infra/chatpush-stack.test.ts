import { App, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { type ActiveVendor, ChatpushStack } from "../../infra/chatpush-stack.js";
import type { DurableQueue } from "../../infra/constructs/durable-queue.js";
import type { PushFunction } from "../../infra/constructs/push-function.js";
import { ENV, vendorQueueEnv } from "../../lib/config/env-names.js";
import { ACTIVE_VENDORS, maxConcurrency, VENDOR_SETTINGS } from "../../lib/vendors/settings.js";

// Bundling is skipped: these tests read the template, not the code.
const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
const stack = new ChatpushStack(app, "Test", { sdkAppId: "1400012345", secretPrefix: "team-a" });
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, CfnResourceJson>;

interface CfnResourceJson {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ref = (c: IConstruct) => JSON.stringify({ Ref: logicalId(c) });
const arn = (c: IConstruct) => JSON.stringify({ "Fn::GetAtt": [logicalId(c), "Arn"] });
const props = (c: IConstruct) => resources[logicalId(c)]!.Properties;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
];
const CONSUME_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueUrl",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
];

/** Every "action on resource" the function's role allows, from all policies attached to it. */
function grantsOf(fn: PushFunction): string[] {
  const roleRef = ref(fn.role);
  const role = props(fn.role);
  expect(
    role.ManagedPolicyArns,
    "no managed policies (AWSLambdaBasicExecutionRole covers all logs)",
  ).toBeUndefined();
  expect(role.Policies).toBeUndefined();
  const pairs: string[] = [];
  for (const [, policy] of ofType("AWS::IAM::Policy")) {
    const roles = (policy.Properties.Roles as unknown[]).map((r) => JSON.stringify(r));
    if (!roles.includes(roleRef)) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of doc.Statement) {
      expect(statement.Effect).toBe("Allow");
      expect(statement.Condition).toBeUndefined();
      for (const action of asList(statement.Action as string | string[]))
        for (const resource of asList(statement.Resource))
          pairs.push(`${action} ON ${typeof resource === "string" ? resource : JSON.stringify(resource)}`);
    }
  }
  return pairs.sort();
}

const on = (actions: readonly string[], resource: string) => actions.map((a) => `${a} ON ${resource}`);

/** What every function gets: writing its own log group, and X-Ray (which has no resource ARNs). */
const baseGrants = (fn: PushFunction) => [
  ...on(["logs:CreateLogStream", "logs:PutLogEvents"], arn(fn.logGroup)),
  ...on(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
  ...on(TABLE_ACTIONS, arn(stack.table)),
];

const channels = ACTIVE_VENDORS.map((vendor) => [vendor, stack.channels[vendor]] as const);
const allFunctions: [string, PushFunction][] = [
  ["HttpApi", stack.httpApi],
  ["RouteEvents", stack.routeEvents],
  ...channels.map(([vendor, c]) => [`${vendor} worker`, c.worker] as [string, PushFunction]),
];
const queuePairs: [string, DurableQueue, PushFunction][] = [
  ["ingest", stack.ingest, stack.routeEvents],
  ...channels.map(([vendor, c]) => [vendor, c.jobs, c.worker] as [string, DurableQueue, PushFunction]),
];

describe("functions", () => {
  it("are exactly the HTTP function, the router and one worker per active vendor", () => {
    expect(ofType("AWS::Lambda::Function")).toHaveLength(2 + ACTIVE_VENDORS.length);
  });

  it.each(allFunctions)(
    "%s runs Node.js 22 on arm64 with source maps and its own JSON log group, without Lambda's start/report lines or X-Ray by default",
    (_, fn) => {
      const p = props(fn.function);
      expect(p.Runtime).toBe("nodejs22.x");
      expect(p.Architectures).toEqual(["arm64"]);
      expect(p.Handler).toBe("index.handler");
      expect(p.TracingConfig).toEqual({ Mode: "PassThrough" });
      expect(p.LoggingConfig).toEqual({
        LogGroup: { Ref: logicalId(fn.logGroup) },
        LogFormat: "JSON",
        SystemLogLevel: "WARN",
        ApplicationLogLevel: "INFO",
      });
      expect(props(fn.logGroup).RetentionInDays).toBe(30);
      expect(p.Environment).toMatchObject({
        Variables: { NODE_OPTIONS: "--enable-source-maps", POWERTOOLS_SERVICE_NAME: "chatpush" },
      });
    },
  );

  it("turn X-Ray, Lambda's start/report lines and DEBUG lines on with -c tracing / systemLogLevel / applicationLogLevel, and refuse other values", () => {
    const traced = new ChatpushStack(
      new App({
        context: {
          "aws:cdk:bundling-stacks": [],
          tracing: "active",
          systemLogLevel: "INFO",
          applicationLogLevel: "DEBUG",
        },
      }),
      "Traced",
      { sdkAppId: "1400000000" },
    );
    const fns = Object.values(Template.fromStack(traced).findResources("AWS::Lambda::Function"));
    expect(fns.length).toBeGreaterThan(2);
    for (const fn of fns) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: "Active" });
      expect(fn.Properties.LoggingConfig).toMatchObject({
        LogFormat: "JSON",
        SystemLogLevel: "INFO",
        ApplicationLogLevel: "DEBUG",
      });
    }
    for (const [key, value, message] of [
      ["tracing", "sometimes", /context tracing must be one of ACTIVE, PASSTHROUGH, not "SOMETIMES"/],
      ["systemLogLevel", "loud", /context systemLogLevel must be one of DEBUG, INFO, WARN, not "LOUD"/],
      [
        "applicationLogLevel",
        "chatty",
        /context applicationLogLevel must be one of DEBUG, INFO, not "CHATTY"/,
      ],
      // The EMF lines carry no "level": Lambda counts them as INFO, so WARN would drop every metric.
      [
        "applicationLogLevel",
        "warn",
        /applicationLogLevel WARN would drop the metrics and silence the alarms/,
      ],
      ["applicationLogLevel", "ERROR", /applicationLogLevel ERROR would drop the metrics/],
    ] as const) {
      const app = new App({ context: { "aws:cdk:bundling-stacks": [], [key]: value } });
      expect(() => new ChatpushStack(app, "Bad", { sdkAppId: "1400000000" })).toThrow(message);
    }
  });

  it("gives the HTTP function 512 MB, 10 s and the names it needs", () => {
    const p = props(stack.httpApi.function);
    expect(p.MemorySize).toBe(512);
    expect(p.Timeout).toBe(10);
    expect(p.Environment).toEqual({
      Variables: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: "chatpush",
        [ENV.sdkAppId]: "1400012345",
        [ENV.tableName]: { Ref: logicalId(stack.table) },
        [ENV.ingestQueueUrl]: { Ref: logicalId(stack.ingest.queue) },
        [ENV.callbackTokenSecret]: "team-a/callback-token",
        [ENV.userSigKeySecret]: "team-a/usersig-key",
      },
    });
  });

  it("gives the router the table and one queue URL per active vendor", () => {
    const p = props(stack.routeEvents.function);
    expect(p.Timeout).toBe(60);
    const variables = (p.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ENV.tableName]).toEqual({ Ref: logicalId(stack.table) });
    // Fan-out pages go back onto the ingest queue; Meeting/AVChatRoom groups stay online-only by default.
    expect(variables[ENV.ingestQueueUrl]).toEqual({ Ref: logicalId(stack.ingest.queue) });
    expect(variables[ENV.pushOnlineOnlyGroups]).toBe("false");
    for (const [vendor, channel] of channels) {
      expect(variables[vendorQueueEnv(vendor)]).toEqual({ Ref: logicalId(channel.jobs.queue) });
    }
    expect(Object.keys(variables).filter((k) => k.startsWith("CHATPUSH_QUEUE_URL_"))).toHaveLength(
      ACTIVE_VENDORS.length,
    );
  });

  it.each(channels)("gives the %s worker its own queue, DLQ and credentials secret", (vendor, channel) => {
    const p = props(channel.worker.function);
    expect(p.Timeout).toBe(VENDOR_SETTINGS[vendor].timeoutSeconds);
    expect((p.Environment as { Variables: unknown }).Variables).toEqual({
      NODE_OPTIONS: "--enable-source-maps",
      POWERTOOLS_SERVICE_NAME: "chatpush",
      [ENV.tableName]: { Ref: logicalId(stack.table) },
      [ENV.vendorQueueUrl]: { Ref: logicalId(channel.jobs.queue) },
      [ENV.vendorDlqUrl]: { Ref: logicalId(channel.jobs.deadLetterQueue) },
      [ENV.credentialsSecret]: `team-a/${vendor}`,
    });
  });
});

describe("event source mappings", () => {
  const mappingFor = (queue: DurableQueue) => {
    const found = ofType("AWS::Lambda::EventSourceMapping").filter(
      ([, r]) => JSON.stringify(r.Properties.EventSourceArn) === arn(queue.queue),
    );
    expect(found).toHaveLength(1);
    return found[0]![1].Properties;
  };

  it("router consumes the ingest queue 100 at a time gathered for 1 s, at most 20 in parallel, with partial failures", () => {
    expect(mappingFor(stack.ingest)).toEqual({
      EventSourceArn: JSON.parse(arn(stack.ingest.queue)),
      FunctionName: JSON.parse(ref(stack.routeEvents.function)),
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it.each(channels)("the %s worker consumes its queue as VENDOR_SETTINGS says", (vendor, channel) => {
    expect(mappingFor(channel.jobs)).toEqual({
      EventSourceArn: JSON.parse(arn(channel.jobs.queue)),
      FunctionName: JSON.parse(ref(channel.worker.function)),
      BatchSize: VENDOR_SETTINGS[vendor].batchSize,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: maxConcurrency(VENDOR_SETTINGS[vendor]) },
    });
  });

  it("has no other mappings (the HTTP function is not a consumer)", () => {
    expect(ofType("AWS::Lambda::EventSourceMapping")).toHaveLength(1 + ACTIVE_VENDORS.length);
  });
});

describe("queues", () => {
  it.each(queuePairs)(
    "%s queue: DLQ, maxReceiveCount, visibility = 6 x the consumer's timeout",
    (name, q, consumer) => {
      const expectedReceives = name === "ingest" ? 5 : VENDOR_SETTINGS[name as ActiveVendor].maxReceiveCount;
      const queue = props(q.queue);
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: JSON.parse(arn(q.deadLetterQueue)),
        maxReceiveCount: expectedReceives,
      });
      const timeout = props(consumer.function).Timeout as number;
      expect(queue.VisibilityTimeout).toBe(6 * timeout);
      expect(props(q.deadLetterQueue).MessageRetentionPeriod).toBe(14 * 24 * 3600);
    },
  );

  it("every queue is encrypted at rest", () => {
    const queues = ofType("AWS::SQS::Queue");
    expect(queues).toHaveLength(2 * (1 + ACTIVE_VENDORS.length));
    for (const [, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined).toBe(
        true,
      );
    }
  });

  it("every queue's policy denies requests without TLS", () => {
    for (const [id] of ofType("AWS::SQS::Queue")) {
      const policies = ofType("AWS::SQS::QueuePolicy").filter(([, p]) =>
        (p.Properties.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify({ Ref: id })),
      );
      expect(policies, id).toHaveLength(1);
      expect(policies[0]![1].Properties.PolicyDocument).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "sqs:*",
            Resource: { "Fn::GetAtt": [id, "Arn"] },
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      });
    }
  });

  it.each(queuePairs)("%s: alarms on any DLQ message and on the age of the oldest message", (_, q) => {
    const alarmOn = (metric: string, queue: IConstruct) =>
      ofType("AWS::CloudWatch::Alarm").filter(
        ([, a]) =>
          a.Properties.MetricName === metric &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: "QueueName", Value: { "Fn::GetAtt": [logicalId(queue), "QueueName"] } }]),
      );
    const dlq = alarmOn("ApproximateNumberOfMessagesVisible", q.deadLetterQueue);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]![1].Properties).toMatchObject({
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    const age = alarmOn("ApproximateAgeOfOldestMessage", q.queue);
    expect(age).toHaveLength(1);
    expect(age[0]![1].Properties).toMatchObject({
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 600,
    });
  });
});

describe("table", () => {
  it("is one on-demand pk/sk table with PITR, TTL on expiresAt and encryption, retained on delete", () => {
    const tables = ofType("AWS::DynamoDB::Table");
    expect(tables).toHaveLength(2);
    expect(ofType("AWS::DynamoDB::GlobalTable")).toHaveLength(0);
    const [, table] = tables.find(([id]) => id === logicalId(stack.table))!;
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
    // No SSESpecification (or SSEEnabled false) means DynamoDB's AWS-owned key: always encrypted.
    const sse = table.Properties.SSESpecification as
      | { SSEEnabled?: boolean; KMSMasterKeyId?: unknown }
      | undefined;
    expect(sse?.KMSMasterKeyId).toBeUndefined();
    expect(sse?.SSEEnabled ?? false).toBe(false);
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.DeletionPolicy).toBe("Retain");
    expect(table.UpdateReplacePolicy).toBe("Retain");
  });
});

describe("secrets", () => {
  it("are the four stable names under the prefix, with generated placeholders", () => {
    const names = ofType("AWS::SecretsManager::Secret").map(([, s]) => s.Properties.Name);
    expect(names.sort()).toEqual(
      ["team-a/callback-token", "team-a/usersig-key", ...ACTIVE_VENDORS.map((v) => `team-a/${v}`)].sort(),
    );
    for (const [, s] of ofType("AWS::SecretsManager::Secret")) {
      expect(s.Properties.GenerateSecretString).toBeDefined();
      expect(s.Properties.SecretString).toBeUndefined();
    }
  });

  it("default to the prefix chatpush", () => {
    const other = new ChatpushStack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Default", {
      sdkAppId: "1400000000",
    });
    const names = Template.fromStack(other).findResources("AWS::SecretsManager::Secret");
    expect(Object.values(names).map((s) => s.Properties.Name)).toContain("chatpush/callback-token");
  });
});

describe("idempotency table", () => {
  it("is keyed by the idempotency key, on demand, with PITR and TTL on Powertools' expiration", () => {
    const [, table] = ofType("AWS::DynamoDB::Table").find(
      ([id]) => id === logicalId(stack.idempotencyTable),
    )!;
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
    });
  });
});

describe("IAM least privilege", () => {
  it("HTTP function: its table, SendMessage to the ingest queue, its two secrets; nothing else", () => {
    const grants = grantsOf(stack.httpApi);
    expect(grants).toEqual(
      [
        ...baseGrants(stack.httpApi),
        ...on(["sqs:SendMessage"], arn(stack.ingest.queue)),
        ...on(["secretsmanager:GetSecretValue"], ref(stack.callbackTokenSecret)),
        ...on(["secretsmanager:GetSecretValue"], ref(stack.userSigKeySecret)),
      ].sort(),
    );
    for (const [, channel] of channels) {
      expect(grants.filter((g) => g.includes(logicalId(channel.jobs.queue)))).toEqual([]);
    }
  });

  it("router: consumes the ingest queue, SendMessage to each vendor queue, its idempotency table, no secrets", () => {
    expect(grantsOf(stack.routeEvents)).toEqual(
      [
        ...baseGrants(stack.routeEvents),
        ...on(TABLE_ACTIONS, arn(stack.idempotencyTable)),
        ...on(CONSUME_ACTIONS, arn(stack.ingest.queue)),
        ...on(["sqs:SendMessage"], arn(stack.ingest.queue)),
        ...channels.flatMap(([, c]) => on(["sqs:SendMessage"], arn(c.jobs.queue))),
      ].sort(),
    );
  });

  it.each(channels)("%s worker: only its own queue, DLQ and credentials", (vendor, channel) => {
    const grants = grantsOf(channel.worker);
    expect(grants).toEqual(
      [
        ...baseGrants(channel.worker),
        ...on(CONSUME_ACTIONS, arn(channel.jobs.queue)),
        ...on(["sqs:SendMessage"], arn(channel.jobs.queue)),
        ...on(["sqs:SendMessage"], arn(channel.jobs.deadLetterQueue)),
        ...on(["secretsmanager:GetSecretValue"], ref(channel.credentials)),
      ].sort(),
    );
    for (const [other, otherChannel] of channels) {
      if (other === vendor) continue;
      for (const foreign of [
        otherChannel.credentials,
        otherChannel.jobs.queue,
        otherChannel.jobs.deadLetterQueue,
      ]) {
        expect(grants.filter((g) => g.includes(logicalId(foreign)))).toEqual([]);
      }
    }
  });
});

describe("HTTP entry point", () => {
  it("is a function URL without IAM auth or CORS (callers authenticate inside the function)", () => {
    template.resourceCountIs("AWS::Lambda::Url", 1);
    expect(ofType("AWS::Lambda::Url")[0]![1].Properties).toEqual({
      AuthType: "NONE",
      TargetFunctionArn: JSON.parse(arn(stack.httpApi.function)),
    });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunctionUrl",
      FunctionUrlAuthType: "NONE",
      Principal: "*",
      FunctionName: JSON.parse(arn(stack.httpApi.function)),
    });
  });

  it("no other function can be invoked from outside", () => {
    for (const [, permission] of ofType("AWS::Lambda::Permission")) {
      expect(permission.Properties.FunctionName).toEqual(JSON.parse(arn(stack.httpApi.function)));
    }
  });
});

describe("outputs", () => {
  const urlAttr = { "Fn::GetAtt": [logicalId(stack.functionUrl), "FunctionUrl"] };

  it("CallbackUrl is the function URL plus callback, DeviceApiUrl plus v1/devices", () => {
    template.hasOutput("CallbackUrl", { Value: { "Fn::Join": ["", [urlAttr, "callback"]] } });
    template.hasOutput("DeviceApiUrl", { Value: { "Fn::Join": ["", [urlAttr, "v1/devices"]] } });
  });

  it("names the table and every queue", () => {
    template.hasOutput("TableName", { Value: { Ref: logicalId(stack.table) } });
    template.hasOutput("IngestQueueUrl", { Value: { Ref: logicalId(stack.ingest.queue) } });
    template.hasOutput("IngestDeadLetterQueueUrl", {
      Value: { Ref: logicalId(stack.ingest.deadLetterQueue) },
    });
    for (const [vendor, channel] of channels) {
      const name = vendor.charAt(0).toUpperCase() + vendor.slice(1);
      template.hasOutput(`${name}QueueUrl`, { Value: { Ref: logicalId(channel.jobs.queue) } });
      template.hasOutput(`${name}DeadLetterQueueUrl`, {
        Value: { Ref: logicalId(channel.jobs.deadLetterQueue) },
      });
      // The name the worker reads (its CHATPUSH_CREDENTIALS_SECRET), for npm run doctor.
      template.hasOutput(`${name}CredentialsSecretName`, { Value: `team-a/${vendor}` });
    }
  });
});

describe("props", () => {
  it("rejects an SDKAppID that is not numeric", () => {
    expect(() => new ChatpushStack(new App(), "Bad", { sdkAppId: "my-app" })).toThrow(/numeric SDKAppID/);
  });
});
