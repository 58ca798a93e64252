import { AspectPriority, Aspects, type IAspect, Stack } from "aws-cdk-lib";
import { Alarm } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct, type IConstruct } from "constructs";

export interface AlarmNotificationsProps {
  /** The customer managed key the topic is encrypted with (CloudWatch may use it, see below). */
  key: IKey;
  /** Subscribes this address (CDK context `alarmEmail`); it must confirm the subscription by mail. */
  email?: string;
}

/**
 * The one topic every alarm of the stack notifies (on ALARM and back to OK), and optionally an email
 * subscription. Like the queues it denies non-TLS requests (cdk-nag SNS3) and is encrypted at rest
 * (SNS2); SNS has no service-managed encryption, so it uses the stack's customer managed key.
 * CloudWatch alarms can publish to an encrypted topic only when the key policy lets
 * cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*): the AWS managed key
 * alias/aws/sns cannot be given that
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * The topic policy lets CloudWatch publish only for alarms of this account and Region
 * (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
 */
export class AlarmNotifications extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.topic = new Topic(this, "Topic", {
      displayName: "chatpush alarms",
      enforceSSL: true,
      masterKey: props.key,
    });
    const cloudWatch = new ServicePrincipal("cloudwatch.amazonaws.com");
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "CloudWatchAlarmsOfThisAccount",
        principals: [cloudWatch],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );
    props.key.addToResourcePolicy(
      new PolicyStatement({
        sid: "CloudWatchAlarmsPublishToEncryptedTopics",
        principals: [cloudWatch],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /**
   * Makes every CloudWatch alarm under `scope` notify the topic, including alarms added after this call
   * (an aspect runs at synthesis).
   */
  notifyEveryAlarmIn(scope: IConstruct): void {
    const action = new SnsAction(this.topic);
    const aspect: IAspect = {
      visit(node) {
        if (!(node instanceof Alarm)) return;
        node.addAlarmAction(action);
        node.addOkAction(action);
      },
    };
    Aspects.of(scope).add(aspect, { priority: AspectPriority.MUTATING });
  }
}
