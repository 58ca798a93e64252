import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, type CfnElement, Duration } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Alarm, Metric } from "aws-cdk-lib/aws-cloudwatch";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELIVERY_EVENTS_FAILED_METRIC } from "../../functions/shared/worker-from-env.js";
import { ChatpushStack, type ChatpushStackProps } from "../../infra/chatpush-stack.js";
import { PROJECT_ROOT } from "../../infra/constructs/push-function.js";
import { ENV } from "../../lib/config/env-names.js";
import { JOB_METRICS, LATENCY_METRIC } from "../../lib/delivery/job-metrics.js";
import { ACTIVE_VENDORS } from "../../lib/vendors/settings.js";

interface CfnResourceJson {
  Type: string;
  Properties: Record<string, unknown>;
}

/** A stack with `props`; bundling is skipped (these tests read the template). */
function synth(props: Partial<ChatpushStackProps> = {}, extend?: (stack: ChatpushStack) => void) {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new ChatpushStack(app, "Test", { sdkAppId: "1400012345", ...props });
  extend?.(stack);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResourceJson>;
  const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { stack, template, resources, logicalId, ofType };
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every "action ON resource" the policies attached to the role with logical id `roleId` allow. */
function grantsOfRole(s: ReturnType<typeof synth>, roleId: string): string[] {
  const pairs: string[] = [];
  for (const [, policy] of s.ofType("AWS::IAM::Policy")) {
    const roles = (policy.Properties.Roles as unknown[]).map((r) => JSON.stringify(r));
    if (!roles.includes(JSON.stringify({ Ref: roleId }))) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of doc.Statement)
      for (const action of asList(statement.Action as string | string[]))
        for (const resource of asList(statement.Resource))
          pairs.push(`${action} ON ${JSON.stringify(resource)}`);
  }
  return pairs;
}

/** The dashboard body with its tokens written as <logicalId> (it is a Fn::Join of text and references). */
function dashboardBody(s: ReturnType<typeof synth>): string {
  const dashboards = s.ofType("AWS::CloudWatch::Dashboard");
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]![1].Properties.DashboardBody as { "Fn::Join": [string, unknown[]] };
  return body["Fn::Join"][1]
    .map((part) => {
      if (typeof part === "string") return part;
      const p = part as { Ref?: string; "Fn::GetAtt"?: [string, string] };
      return `<${p.Ref ?? p["Fn::GetAtt"]?.[0]}>`;
    })
    .join("");
}

describe("alarm notifications (issue 12.5)", () => {
  const s = synth();
  const topicRef = { Ref: s.logicalId(s.stack.alarmNotifications.topic) };

  it("every alarm notifies the one alarms topic, on ALARM and back to OK", () => {
    const alarms = s.ofType("AWS::CloudWatch::Alarm");
    // At least two per queue (ingest + one per vendor) and two more per vendor (credential problem,
    // held removals); a queue or alarm added later must notify too.
    expect(alarms.length).toBeGreaterThanOrEqual(2 * (1 + ACTIVE_VENDORS.length) + 2 * ACTIVE_VENDORS.length);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef]);
      expect(alarm.Properties.OKActions, id).toEqual([topicRef]);
    }
    expect(s.ofType("AWS::SNS::Topic")).toHaveLength(1);
    s.template.hasOutput("AlarmTopicArn", { Value: topicRef });
  });

  it("an alarm added to the stack later notifies the topic too", () => {
    const later = synth({}, (stack) => {
      new Alarm(stack, "AddedLater", {
        metric: new Metric({ namespace: "chatpush", metricName: "Anything", period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    });
    const topic = { Ref: later.logicalId(later.stack.alarmNotifications.topic) };
    const [, added] = later.ofType("AWS::CloudWatch::Alarm").find(([id]) => id.startsWith("AddedLater"))!;
    expect(added.Properties.AlarmActions).toEqual([topic]);
  });

  it("the topic is encrypted with a rotated customer managed key that CloudWatch may use, and TLS-only", () => {
    const keyId = s.logicalId(s.stack.topicKey);
    const topic = s.resources[topicRef.Ref]!.Properties;
    expect(topic.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [keyId, "Arn"] });
    const key = s.resources[keyId]!.Properties as {
      EnableKeyRotation: boolean;
      KeyPolicy: { Statement: Record<string, unknown>[] };
    };
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      }),
    );
    const policies = s
      .ofType("AWS::SNS::TopicPolicy")
      .filter(([, p]) => JSON.stringify(p.Properties.Topics) === JSON.stringify([topicRef]));
    expect(policies).toHaveLength(1);
    const policy = policies[0]![1];
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Action: "sns:Publish",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    const cloudWatch = statements.find((st) => st.Effect === "Allow")!;
    expect(cloudWatch).toMatchObject({
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: topicRef,
    });
    // Only alarms of this account and Region.
    expect(JSON.stringify(cloudWatch.Condition)).toContain(":alarm:*");
    expect(JSON.stringify(cloudWatch.Condition)).toContain("AWS::AccountId");
  });

  it("subscribes nobody by default, and the alarmEmail address when given", () => {
    expect(s.ofType("AWS::SNS::Subscription")).toEqual([]);

    const withEmail = synth({ alarmEmail: "ops@example.com" });
    const subscriptions = withEmail.ofType("AWS::SNS::Subscription");
    expect(subscriptions.map(([, r]) => r.Properties)).toEqual([
      {
        Protocol: "email",
        Endpoint: "ops@example.com",
        TopicArn: { Ref: withEmail.logicalId(withEmail.stack.alarmNotifications.topic) },
      },
    ]);
  });

  it("refuses an alarmEmail that is not an address", () => {
    expect(() => synth({ alarmEmail: "ops at example" })).toThrow(/alarmEmail must be an email address/);
  });
});

describe("dashboard (issue 12.5)", () => {
  const s = synth();
  const body = dashboardBody(s);
  const widgets = (JSON.parse(body) as { widgets: { type: string; properties: Record<string, unknown> }[] })
    .widgets;
  const titled = (title: string) => {
    const found = widgets.filter((w) => w.properties.title === title);
    expect(found, title).toHaveLength(1);
    return found[0]!.properties;
  };
  const metricsOf = (title: string) => titled(title).metrics as unknown[][];

  it("shows callbacks, the router, queue age of every queue, every DLQ and every alarm's state", () => {
    const callbacks = metricsOf("Callbacks and device API (HTTP function)");
    const httpFn = `<${s.logicalId(s.stack.httpApi.function)}>`;
    expect(callbacks).toContainEqual([
      "AWS/Lambda",
      "Invocations",
      "FunctionName",
      httpFn,
      expect.anything(),
    ]);
    expect(metricsOf("Router (RouteEvents)")).toContainEqual([
      "AWS/Lambda",
      "Invocations",
      "FunctionName",
      `<${s.logicalId(s.stack.routeEvents.function)}>`,
      expect.anything(),
    ]);
    const queues = [s.stack.ingest, ...ACTIVE_VENDORS.map((v) => s.stack.channels[v].jobs)];
    const age = metricsOf("Queue age: oldest message (s)");
    const dlq = metricsOf("Dead-letter queues (messages)");
    for (const q of queues) {
      expect(age).toContainEqual([
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "QueueName",
        `<${s.logicalId(q.queue)}>`,
        { label: expect.any(String), stat: "Maximum" },
      ]);
      expect(dlq).toContainEqual([
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        `<${s.logicalId(q.deadLetterQueue)}>`,
        { label: expect.any(String), stat: "Maximum" },
      ]);
    }
    const alarmWidget = widgets.find((w) => w.type === "alarm")!;
    expect(alarmWidget.properties.alarms).toHaveLength(s.ofType("AWS::CloudWatch::Alarm").length);
  });

  it.each(ACTIVE_VENDORS)(
    "names %s's widgets: outcomes, latency p50/p99, quota and credential problems",
    (vendor) => {
      const job = (name: string) => ["chatpush", name, "service", "chatpush", "vendor", vendor];
      const outcomes = metricsOf(`${vendor}: pushes and outcomes`);
      for (const name of [JOB_METRICS.delivered, JOB_METRICS.tokensRemoved, JOB_METRICS.deadLettered]) {
        expect(outcomes).toContainEqual([...job(name), expect.objectContaining({ stat: "Sum" })]);
      }
      const latency = metricsOf(`${vendor}: latency callback → vendor answer (ms)`);
      expect(latency).toEqual([
        [...job(LATENCY_METRIC), { label: "p50", stat: "p50" }],
        [...job(LATENCY_METRIC), { label: "p99", stat: "p99" }],
      ]);
      const problems = metricsOf(`${vendor}: quota, credential problems, token removals held`);
      for (const name of [
        JOB_METRICS.quotaDelayed,
        JOB_METRICS.credentialProblems,
        JOB_METRICS.tokenRemovalsHeld,
      ]) {
        expect(problems).toContainEqual([...job(name), expect.objectContaining({ stat: "Sum" })]);
      }
    },
  );

  it("is linked from the stack outputs", () => {
    const dashboardId = s.ofType("AWS::CloudWatch::Dashboard")[0]![0];
    expect(JSON.stringify(s.template.toJSON().Outputs.DashboardUrl.Value)).toContain(
      `{"Ref":"${dashboardId}"}`,
    );
  });
});

describe("delivery-events topic (issue 12.4)", () => {
  const workers = ACTIVE_VENDORS.map((v) => [v] as const);

  describe("with deliveryEvents", () => {
    const s = synth({ deliveryEvents: true });
    const topic = s.stack.deliveryEvents!;
    const topicId = s.logicalId(topic);

    it("is a TLS-only topic encrypted with the stack's key, its ARN an output", () => {
      expect(topicId).toMatch(/^DeliveryEvents/);
      expect(s.resources[topicId]!.Properties.KmsMasterKeyId).toEqual({
        "Fn::GetAtt": [s.logicalId(s.stack.topicKey), "Arn"],
      });
      const policies = s
        .ofType("AWS::SNS::TopicPolicy")
        .filter(([, p]) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: topicId }]));
      expect(JSON.stringify(policies[0]![1].Properties.PolicyDocument)).toContain(
        '"aws:SecureTransport":"false"',
      );
      s.template.hasOutput("DeliveryEventsTopicArn", { Value: { Ref: topicId } });
    });

    it.each(workers)(
      "the %s worker gets its ARN and may publish (and encrypt) to it, nothing more",
      (vendor) => {
        const worker = s.stack.channels[vendor].worker;
        const variables = (
          s.resources[s.logicalId(worker.function)]!.Properties.Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
        expect(variables[ENV.deliveryEventsTopicArn]).toEqual({ Ref: topicId });
        const grants = grantsOfRole(s, s.logicalId(worker.role));
        expect(grants).toContain(`sns:Publish ON {"Ref":"${topicId}"}`);
        const keyArn = JSON.stringify({ "Fn::GetAtt": [s.logicalId(s.stack.topicKey), "Arn"] });
        expect(grants.filter((g) => g.includes(s.logicalId(s.stack.topicKey))).sort()).toEqual(
          [`kms:Decrypt ON ${keyArn}`, `kms:GenerateDataKey ON ${keyArn}`].sort(),
        );
        expect(grants.filter((g) => g.startsWith("sns:"))).toEqual([`sns:Publish ON {"Ref":"${topicId}"}`]);
      },
    );

    it("alarms, through the alarms topic, when the workers could not publish events", () => {
      const alarm = s.resources[s.logicalId(s.stack.deliveryEventsFailedAlarm!)]!.Properties;
      expect(alarm).toMatchObject({
        Namespace: "chatpush",
        MetricName: DELIVERY_EVENTS_FAILED_METRIC,
        Dimensions: [{ Name: "service", Value: "chatpush" }],
        Statistic: "Sum",
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [{ Ref: s.logicalId(s.stack.alarmNotifications.topic) }],
      });
    });

    it("the HTTP function and the router neither get it nor may publish", () => {
      for (const fn of [s.stack.httpApi, s.stack.routeEvents]) {
        const variables = (
          s.resources[s.logicalId(fn.function)]!.Properties.Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
        expect(variables[ENV.deliveryEventsTopicArn]).toBeUndefined();
        expect(grantsOfRole(s, s.logicalId(fn.role)).filter((g) => g.startsWith("sns:"))).toEqual([]);
      }
    });
  });

  describe("without it", () => {
    const s = synth();

    it("there is no topic, no variable and no permission", () => {
      expect(s.stack.deliveryEvents).toBeUndefined();
      expect(s.stack.deliveryEventsFailedAlarm).toBeUndefined();
      // The alarms topic is the only one.
      expect(s.ofType("AWS::SNS::Topic").map(([id]) => id)).toEqual([
        s.logicalId(s.stack.alarmNotifications.topic),
      ]);
      expect(s.template.toJSON().Outputs.DeliveryEventsTopicArn).toBeUndefined();
      for (const [, fn] of s.ofType("AWS::Lambda::Function")) {
        const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(variables[ENV.deliveryEventsTopicArn]).toBeUndefined();
      }
      for (const [, policy] of s.ofType("AWS::IAM::Policy")) {
        expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toContain("sns:Publish");
      }
    });
  });
});

const run = promisify(execFile);

// The real infra/app.ts with `-c alarmEmail=… -c deliveryEvents=true` as the CDK CLI passes them
// (CDK_CONTEXT_JSON, strings), cdk-nag AwsSolutions applied, bundling skipped.
describe("infra/app.ts with alarmEmail and deliveryEvents", () => {
  let outDir: string;

  const synthApp = async (context: Record<string, string>) => {
    try {
      const { stderr } = await run(join(PROJECT_ROOT, "node_modules/.bin/tsx"), ["infra/app.ts"], {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          CDK_OUTDIR: outDir,
          CDK_CONTEXT_JSON: JSON.stringify({ "aws:cdk:bundling-stacks": [], ...context }),
        },
      });
      return { code: 0, stderr };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { code: e.code, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "chatpush-observability-"));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it("synthesizes the topic, the subscription and the dashboard with no cdk-nag finding", async () => {
    const exit = await synthApp({ alarmEmail: "ops@example.com", deliveryEvents: "true" });
    expect(exit.stderr.match(/AwsSolutions-[A-Z0-9]+(\[[^\]]*\])?/g) ?? []).toEqual([]);
    expect(exit.code).toBe(0);
    const template = JSON.parse(await readFile(join(outDir, "Chatpush.template.json"), "utf8")) as {
      Resources: Record<string, CfnResourceJson>;
      Outputs: Record<string, unknown>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === "AWS::SNS::Topic")).toHaveLength(2);
    expect(types.filter((t) => t === "AWS::CloudWatch::Dashboard")).toHaveLength(1);
    const subscription = Object.values(template.Resources).find((r) => r.Type === "AWS::SNS::Subscription");
    expect(subscription?.Properties).toMatchObject({ Protocol: "email", Endpoint: "ops@example.com" });
    expect(template.Outputs.DeliveryEventsTopicArn).toBeDefined();
  }, 60_000);

  it("fails on a deliveryEvents value that is not true or false", async () => {
    const exit = await synthApp({ deliveryEvents: "yes" });
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain('deliveryEvents must be true or false, got "yes"');
  }, 60_000);
});
