import type { MessageContent } from "./compose.js";
import type { Mentions } from "./group.js";

/**
 * One page of a group message's fan-out. The router handles the first page itself and queues the next
 * page before working on its own, so a 100,000-member group is spread over many short invocations
 * (none near its timeout) and pages proceed in parallel.
 */
export interface GroupFanoutTask {
  groupId: string;
  /** Member-page cursor; absent for the first page. */
  cursor?: string;
  page: number;
  senderId: string;
  /** The notification, decided once for the whole group (texts in every catalogue language). */
  content: MessageContent;
  /** Whose receive option applies: the topic's, then the community's (see deliver.ts). */
  conversationIds: string[];
  mentionAll: boolean;
  mentioned: string[];
  acceptedAt: number;
}

export interface FanoutQueue {
  publish(task: GroupFanoutTask): Promise<void>;
}

export function mentionsOfTask(task: GroupFanoutTask): Mentions {
  return { all: task.mentionAll, users: new Set(task.mentioned) };
}

/** The internal command fan-out pages travel under on the ingest queue (never accepted over HTTP). */
export const FANOUT_COMMAND = "chatpush.GroupFanoutPage";

export interface FanoutEvent {
  command: typeof FANOUT_COMMAND;
  acceptedAt: number;
  body: GroupFanoutTask;
}
