import {
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Key } from "aws-cdk-lib/aws-kms";
import { type FunctionUrl, FunctionUrlAuthType } from "aws-cdk-lib/aws-lambda";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Topic } from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { ENV, vendorQueueEnv } from "../lib/config/env-names.js";
import { JOB_METRICS_NAMESPACE } from "../lib/delivery/job-metrics.js";
import { ACTIVE_VENDORS, VENDOR_SETTINGS } from "../lib/vendors/settings.js";
import { AlarmNotifications } from "./constructs/alarm-notifications.js";
import { DurableQueue } from "./constructs/durable-queue.js";
import { OperationsDashboard } from "./constructs/operations-dashboard.js";
import { PushFunction } from "./constructs/push-function.js";
import { VendorChannel } from "./constructs/vendor-channel.js";

export type ActiveVendor = (typeof ACTIVE_VENDORS)[number];

export interface ChatpushStackProps extends StackProps {
  /** The app's SDKAppID from the Tencent Cloud Chat console (digits only). */
  sdkAppId: string;
  /** Secrets are named `<secretPrefix>/callback-token`, `/usersig-key`, `/<vendor>`. Default "chatpush". */
  secretPrefix?: string;
  /** Push Meeting and AVChatRoom groups offline too (Tencent's default for them is online only). */
  pushOnlineOnlyGroups?: boolean;
  /**
   * Reserved concurrency of the public HTTP function (CDK context `httpReservedConcurrency`); `null`
   * = none. Default DEFAULT_HTTP_RESERVED_CONCURRENCY.
   */
  httpReservedConcurrency?: number | null;
  /** Days after which another user may take an unrefreshed device registration's token (default 30). */
  tokenTakeoverDays?: number;
  /** Subscribes this address to the alarms topic (CDK context `alarmEmail`). Default: no subscription. */
  alarmEmail?: string;
  /**
   * Creates the DeliveryEvents topic the workers publish delivered / token-removed / dead-lettered
   * events to (CDK context `deliveryEvents=true`). Default false: no topic, no publishing.
   */
  deliveryEvents?: boolean;
}

/**
 * The HTTP function's URL is public (Tencent's callbacks carry no AWS signature), so a flood of
 * unsigned requests would otherwise scale it until it takes the whole account's concurrency (1,000
 * per Region by default) and starves the router and the vendor workers. Reserved concurrency caps it
 * (requests beyond it are throttled with 429 at the URL) and keeps that much for it. 100 instances
 * answer thousands of requests a second (a callback is answered in tens of milliseconds) and leave
 * 900 of a default account. New accounts may have a concurrency quota of only 10, with 10 (or 100)
 * that must stay unreserved (limits-and-costs.md §2.1; https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
 * there, deploy with `-c httpReservedConcurrency=none` or a smaller number, or ask for a higher quota.
 */
export const DEFAULT_HTTP_RESERVED_CONCURRENCY = 100;

/**
 * The router's event source: up to 100 callbacks per invocation, gathered for at most 1 s (the least
 * window Lambda allows for a batch above 10, limits-and-costs.md §2.2). A one-to-one callback costs a
 * tenth of the invocations it cost in batches of 10, and the batch's jobs go out together
 * (functions/shared/route-events.ts, CoalescedDeliveryQueue): ~10 jobs per SendMessageBatch instead
 * of one (npm run bench:cost). The price: when traffic is low, a callback waits up to 1 s to be routed.
 * Memory bounds it too: a record is routed with the others in parallel, a fan-out page holds its
 * 5,000 members' user items, and the batch stays within Lambda's 6 MB payload.
 */
export const ROUTER_EVENT_SOURCE = { batchSize: 100, maxBatchingWindowSeconds: 1, maxConcurrency: 20 };

/** Paths of the HTTP function's routes, appended to the function URL (which ends in "/"). */
const CALLBACK_PATH = "callback";
const DEVICE_API_PATH = "v1/devices";

/**
 * Tencent callback → HttpApi (function URL) → ingest queue → RouteEvents → one queue per vendor →
 * deliver-<vendor> workers. One table holds devices, presence and profiles.
 */
export class ChatpushStack extends Stack {
  readonly table: Table;
  readonly idempotencyTable: Table;
  readonly callbackTokenSecret: Secret;
  readonly userSigKeySecret: Secret;
  readonly ingest: DurableQueue;
  readonly httpApi: PushFunction;
  readonly functionUrl: FunctionUrl;
  readonly routeEvents: PushFunction;
  readonly channels: Record<ActiveVendor, VendorChannel>;
  /** Encrypts the stack's SNS topics (SNS has no service-managed encryption CloudWatch can publish to). */
  readonly topicKey: Key;
  /** The topic every alarm notifies. */
  readonly alarmNotifications: AlarmNotifications;
  /** The delivery-events topic, with `deliveryEvents` only. */
  readonly deliveryEvents: Topic | undefined;
  /** Events the workers could not publish to it, with `deliveryEvents` only. */
  readonly deliveryEventsFailedAlarm: Alarm | undefined;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: ChatpushStackProps) {
    super(scope, id, props);
    if (!Token.isUnresolved(props.sdkAppId) && !/^\d+$/.test(props.sdkAppId)) {
      throw new Error(`sdkAppId must be the numeric SDKAppID from the Chat console, got "${props.sdkAppId}"`);
    }
    const secretPrefix = props.secretPrefix ?? "chatpush";

    // Table rather than TableV2: it synthesises to AWS::DynamoDB::Table, the only type cdk-nag's
    // DDB3 (point-in-time recovery) inspects; replicas are not needed.
    this.table = new Table(this, "Table", {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      sortKey: { name: "sk", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: "expiresAt",
      // AWS-owned key: encrypted at rest with no KMS key to grant or pay for.
      encryption: TableEncryption.DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The router's event claims (lib/ingest/event-claims.ts): a callback Tencent retries, or an SQS
    // message delivered twice, is routed once. Its own table, keyed by the event identity, so claims spread
    // over partitions (a shared pk/sk table would put them all under one static partition key).
    this.idempotencyTable = new Table(this, "IdempotencyTable", {
      partitionKey: { name: "id", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: "expiration",
      encryption: TableEncryption.DEFAULT,
      // Records live an hour; nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const callbackTokenName = `${secretPrefix}/callback-token`;
    this.callbackTokenSecret = new Secret(this, "CallbackTokenSecret", {
      secretName: callbackTokenName,
      description:
        "chatpush: the callback authentication token; set the same value in the Chat console (Callback configuration).",
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
    });
    Validations.of(this.callbackTokenSecret.node.defaultChild!).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The callback token must equal the one set in the Tencent Chat console, and no API is confirmed to change that token (TRTC's set_callback_token is unconfirmed for Chat), so it is rotated by hand in both places.",
    });
    const userSigKeyName = `${secretPrefix}/usersig-key`;
    this.userSigKeySecret = new Secret(this, "UserSigKeySecret", {
      secretName: userSigKeyName,
      description:
        "chatpush: the app's UserSig secret key from the Chat console; replace the generated placeholder.",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.userSigKeySecret.node.defaultChild!).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The UserSig key is issued by Tencent Cloud Chat per SDKAppID and can only be changed in its console; a rotation Lambda cannot generate a valid one.",
    });

    const routeTimeout = Duration.seconds(60);
    // Store-and-forward: the callback answers OK once the event is on this queue.
    this.ingest = new DurableQueue(this, "Ingest", { consumerTimeout: routeTimeout, maxReceiveCount: 5 });

    this.httpApi = new PushFunction(this, "HttpApi", {
      entry: "functions/http-api.ts",
      description: "chatpush: Tencent callbacks and the device API",
      timeout: Duration.seconds(10),
      memorySize: 512,
      environment: {
        [ENV.sdkAppId]: props.sdkAppId,
        ...(props.tokenTakeoverDays !== undefined
          ? { [ENV.tokenTakeoverDays]: String(props.tokenTakeoverDays) }
          : {}),
      },
      ...httpConcurrency(props.httpReservedConcurrency),
    })
      .bindTable(ENV.tableName, this.table)
      .bindQueueSender(ENV.ingestQueueUrl, this.ingest.queue)
      .bindSecret(ENV.callbackTokenSecret, this.callbackTokenSecret, callbackTokenName)
      .bindSecret(ENV.userSigKeySecret, this.userSigKeySecret, userSigKeyName);
    // Public on purpose: Tencent's callback carries no AWS signature and the apps authenticate with
    // UserSig; both are checked inside the function. No CORS: callers are servers and native apps.
    this.functionUrl = this.httpApi.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });

    const channels: Partial<Record<ActiveVendor, VendorChannel>> = {};
    for (const vendor of ACTIVE_VENDORS) {
      channels[vendor] = new VendorChannel(this, `${pascal(vendor)}Channel`, {
        vendor,
        settings: VENDOR_SETTINGS[vendor],
        table: this.table,
        credentialsSecretName: `${secretPrefix}/${vendor}`,
      });
    }
    this.channels = channels as Record<ActiveVendor, VendorChannel>;

    this.routeEvents = new PushFunction(this, "RouteEvents", {
      entry: "functions/route-events.ts",
      description: "chatpush: turns callback events into vendor delivery jobs",
      timeout: routeTimeout,
      environment: { [ENV.pushOnlineOnlyGroups]: String(props.pushOnlineOnlyGroups ?? false) },
    })
      .bindTable(ENV.tableName, this.table)
      .bindTable(ENV.idempotencyTableName, this.idempotencyTable)
      // Group fan-out pages are queued back onto the ingest queue it consumes.
      .bindQueueSender(ENV.ingestQueueUrl, this.ingest.queue)
      .consume(this.ingest.queue, {
        batchSize: ROUTER_EVENT_SOURCE.batchSize,
        maxBatchingWindow: Duration.seconds(ROUTER_EVENT_SOURCE.maxBatchingWindowSeconds),
        maxConcurrency: ROUTER_EVENT_SOURCE.maxConcurrency,
      });
    for (const channel of Object.values(this.channels)) {
      this.routeEvents.bindQueueSender(vendorQueueEnv(channel.vendor), channel.jobs.queue);
    }

    // One customer managed key for the topics ($1 a month), rotated yearly (cdk-nag KMS5). It encrypts
    // only messages in transit through SNS, so nothing is lost when it goes with the stack.
    this.topicKey = new Key(this, "TopicKey", {
      description: "chatpush: encrypts the alarms and delivery-events SNS topics",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });

    this.deliveryEvents = undefined;
    this.deliveryEventsFailedAlarm = undefined;
    if (props.deliveryEvents === true) {
      // The app's backend subscribes a queue, a function or an HTTPS endpoint (issue 12.4).
      this.deliveryEvents = new Topic(this, "DeliveryEvents", {
        displayName: "chatpush delivery events",
        enforceSSL: true,
        masterKey: this.topicKey,
      });
      for (const channel of Object.values(this.channels)) {
        channel.worker.bindTopicPublisher(ENV.deliveryEventsTopicArn, this.deliveryEvents);
      }
      // The workers count the events SNS did not take (DELIVERY_EVENTS_FAILED_METRIC in
      // functions/shared/worker-from-env.ts, Powertools' shared buffer: dimension service only).
      this.deliveryEventsFailedAlarm = new Alarm(this, "DeliveryEventsFailedAlarm", {
        alarmDescription:
          "Delivery events could not be published to the DeliveryEvents topic, so the app's backend missed them (the pushes themselves were delivered or settled). The vendor workers' logs say why.",
        metric: new Metric({
          namespace: JOB_METRICS_NAMESPACE,
          metricName: "DeliveryEventsFailed",
          dimensionsMap: { service: "chatpush" },
          statistic: "Sum",
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      new CfnOutput(this, "DeliveryEventsTopicArn", {
        description: "Subscribe your backend here: delivered / token-removed / dead-lettered events",
        value: this.deliveryEvents.topicArn,
      });
    }

    if (props.alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+$/.test(props.alarmEmail)) {
      throw new Error(`alarmEmail must be an email address, got "${props.alarmEmail}"`);
    }
    this.alarmNotifications = new AlarmNotifications(this, "AlarmNotifications", {
      key: this.topicKey,
      ...(props.alarmEmail !== undefined ? { email: props.alarmEmail } : {}),
    });
    this.alarmNotifications.notifyEveryAlarmIn(this);

    this.dashboard = new OperationsDashboard(this, "Operations", {
      httpApi: this.httpApi,
      routeEvents: this.routeEvents,
      ingest: this.ingest,
      channels: Object.values(this.channels),
      alarms: this.node.findAll().filter((c): c is Alarm => c instanceof Alarm),
    });

    new CfnOutput(this, "CallbackUrl", {
      description: "Paste into the Chat console: Callback configuration > Callback URL",
      value: Fn.join("", [this.functionUrl.url, CALLBACK_PATH]),
    });
    new CfnOutput(this, "DeviceApiUrl", {
      description: "Base URL of the device API the apps call",
      value: Fn.join("", [this.functionUrl.url, DEVICE_API_PATH]),
    });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "IngestQueueUrl", { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, "IngestDeadLetterQueueUrl", { value: this.ingest.deadLetterQueue.queueUrl });
    for (const channel of Object.values(this.channels)) {
      const name = pascal(channel.vendor);
      new CfnOutput(this, `${name}QueueUrl`, { value: channel.jobs.queue.queueUrl });
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, { value: channel.jobs.deadLetterQueue.queueUrl });
      // The secret this vendor's worker reads its credentials from: where `npm run doctor` finds them.
      new CfnOutput(this, `${name}CredentialsSecretName`, { value: `${secretPrefix}/${channel.vendor}` });
    }
    new CfnOutput(this, "AlarmTopicArn", {
      description: "Every alarm notifies this topic; subscribe more endpoints here",
      value: this.alarmNotifications.topic.topicArn,
    });
    new CfnOutput(this, "DashboardUrl", {
      value: Fn.join("", [
        "https://console.aws.amazon.com/cloudwatch/home?region=",
        this.region,
        "#dashboards:name=",
        this.dashboard.dashboard.dashboardName,
      ]),
    });
  }
}

function httpConcurrency(value: number | null | undefined): { reservedConcurrentExecutions?: number } {
  if (value === null) return {};
  const reserved = value ?? DEFAULT_HTTP_RESERVED_CONCURRENCY;
  if (!Number.isInteger(reserved) || reserved < 1) {
    throw new Error(
      `httpReservedConcurrency must be a positive integer or "none", got ${JSON.stringify(value)} (0 would throttle every request)`,
    );
  }
  return { reservedConcurrentExecutions: reserved };
}

function pascal(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
