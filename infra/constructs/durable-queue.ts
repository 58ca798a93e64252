import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface DurableQueueProps {
  /** Timeout of the function consuming the queue; the visibility timeout is six times this (AWS guidance). */
  consumerTimeout: Duration;
  /** Receives before SQS moves a message to the dead-letter queue. */
  maxReceiveCount: number;
  /** The backlog alarm fires when the oldest message is older than this. Default: 10 minutes. */
  maxMessageAge?: Duration;
}

/**
 * A work queue with its dead-letter queue and the two alarms an operator needs: "something is in the
 * DLQ" and "the backlog is not draining". Both queues use SQS-managed encryption (no KMS key, so
 * nothing to grant or pay for) and deny non-TLS requests.
 */
export class DurableQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** DLQ ApproximateNumberOfMessagesVisible > 0. */
  readonly deadLetterAlarm: Alarm;
  /** Queue ApproximateAgeOfOldestMessage > maxMessageAge. */
  readonly backlogAlarm: Alarm;

  constructor(scope: Construct, id: string, props: DurableQueueProps) {
    super(scope, id);
    const maxMessageAge = props.maxMessageAge ?? Duration.minutes(10);

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum, so an operator has two weeks to inspect and redrive.
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    this.deadLetterAlarm = new Alarm(this, "DeadLetterAlarm", {
      alarmDescription: `Messages in the dead-letter queue of ${this.node.path}: inspect, fix, then redrive.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.backlogAlarm = new Alarm(this, "BacklogAlarm", {
      alarmDescription: `The oldest message in ${this.node.path} is older than ${maxMessageAge.toHumanString()}: pushes are late.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: maxMessageAge.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Five minutes in a row, so one slow batch does not page anyone.
      evaluationPeriods: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
