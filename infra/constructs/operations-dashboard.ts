import { Duration } from "aws-cdk-lib";
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { JOB_METRICS, LATENCY_METRIC } from "../../lib/delivery/job-metrics.js";
import type { DurableQueue } from "./durable-queue.js";
import type { PushFunction } from "./push-function.js";
import type { VendorChannel } from "./vendor-channel.js";

export interface OperationsDashboardProps {
  /** The public function: Tencent's callbacks and the device API. */
  httpApi: PushFunction;
  routeEvents: PushFunction;
  ingest: DurableQueue;
  channels: readonly VendorChannel[];
  /** Shown with their state at the top. */
  alarms: readonly IAlarm[];
}

const FIVE_MINUTES = Duration.minutes(5);
const WIDTH = 24;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard for the whole pipeline. Across the top: callbacks (the HTTP function's
 * invocations and the events it put on the ingest queue), the router, the age of the oldest message in
 * every queue, the depth of every dead-letter queue, and every alarm's state. Then one row per vendor,
 * titled with its name: pushes and outcomes, the callback → vendor answer latency (p50 and p99 of the
 * workers' LatencyMs values), and quota holds, credential problems and held token removals.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { httpApi, routeEvents, ingest, channels } = props;
    const sum = { statistic: "Sum", period: FIVE_MINUTES };
    const max = { statistic: "Maximum", period: FIVE_MINUTES };
    const queues: [string, DurableQueue][] = [
      ["ingest", ingest],
      ...channels.map((c): [string, DurableQueue] => [c.vendor, c.jobs]),
    ];
    const graph = (title: string, width: number, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, width, height: HEIGHT, left, right, period: FIVE_MINUTES });

    const rows: IWidget[][] = [
      [
        new TextWidget({
          width: WIDTH,
          height: 2,
          markdown:
            "## chatpush\nTencent callback → HTTP function → ingest queue → router → one queue per vendor → vendor workers. " +
            "Latency is the time from a callback's acceptance to the vendor's answer accepting the push, per delivered device (queue waits and retries included).",
        }),
      ],
      [
        graph("Callbacks and device API (HTTP function)", 6, [
          httpApi.function.metricInvocations({ ...sum, label: "invocations" }),
          httpApi.function.metricErrors({ ...sum, label: "errors" }),
          httpApi.function.metricThrottles({ ...sum, label: "throttled (429)" }),
          ingest.queue.metricNumberOfMessagesSent({
            ...sum,
            label: "events queued (callbacks + fan-out pages)",
          }),
        ]),
        graph("Router (RouteEvents)", 6, [
          routeEvents.function.metricInvocations({ ...sum, label: "invocations" }),
          routeEvents.function.metricErrors({ ...sum, label: "errors" }),
        ]),
        graph(
          "Queue age: oldest message (s)",
          6,
          queues.map(([name, q]) => q.queue.metricApproximateAgeOfOldestMessage({ ...max, label: name })),
        ),
        graph(
          "Dead-letter queues (messages)",
          6,
          queues.map(([name, q]) =>
            q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: name }),
          ),
        ),
      ],
      [
        new AlarmStatusWidget({
          title: "Alarms",
          width: WIDTH,
          height: Math.max(3, Math.ceil(props.alarms.length / 4) + 1),
          alarms: [...props.alarms],
        }),
      ],
      ...channels.map((channel) => {
        const job = (name: string, label: string) => channel.metricJob(name, { label });
        return [
          graph(`${channel.vendor}: pushes and outcomes`, 8, [
            job(JOB_METRICS.delivered, "delivered"),
            job(JOB_METRICS.tokensRemoved, "token removed"),
            job(JOB_METRICS.retried, "retrying"),
            job(JOB_METRICS.deadLettered, "dead-lettered"),
            job(JOB_METRICS.declined, "declined by the device"),
            job(JOB_METRICS.deferred, "deferred (own rate, circuit)"),
            job(JOB_METRICS.alreadySent, "already sent (redelivery)"),
          ]),
          graph(`${channel.vendor}: latency callback → vendor answer (ms)`, 8, [
            channel.metricJob(LATENCY_METRIC, { statistic: "p50", label: "p50" }),
            channel.metricJob(LATENCY_METRIC, { statistic: "p99", label: "p99" }),
          ]),
          graph(`${channel.vendor}: quota, credential problems, token removals held`, 8, [
            job(JOB_METRICS.quotaDelayed, "held by a vendor quota"),
            job(JOB_METRICS.credentialProblems, "credential problem (parked)"),
            job(JOB_METRICS.tokenRemovalsHeld, "token removal held (parked)"),
          ]),
        ];
      }),
    ];

    this.dashboard = new Dashboard(this, "Dashboard", { widgets: rows });
  }
}
