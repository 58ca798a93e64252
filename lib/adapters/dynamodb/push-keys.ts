import { createHash } from "node:crypto";
import type { Segment } from "../../push-api/ports.js";

/**
 * The keys of the server push items in chatpush's table (one table, pk/sk):
 *
 *   pk USER#<userId>                          sk PUSHTAGS   tags, attrs, rev        (im_add_tag, im_set_attr…)
 *   pk PTAG#<tag>#<shard>                     sk U#<userId>                         (who holds a tag)
 *   pk PATTR#<name>#<value>#<shard>           sk U#<userId>                         (who has an attribute value)
 *   pk PALL#<shard>                           sk U#<userId> at                      (who registered a device)
 *   pk PUSHCONFIG                             sk ATTRNAMES  names                   (im_set_attr_name)
 *   pk PUSHRANDOM#<scope>#<MsgRandom>         sk RANDOM     taskId, queued, expiresAt (7-day de-duplication)
 *   pk PUSHTASK#<taskId>                      sk TASK       kind, from, createdAt, revokedAt, c:<count>…
 *   pk PUSHQUOTA                              sk D#<day>    n, lastAt               (broadcasts a day, 1 s apart)
 *
 * Index items are key-only (~50 bytes): a 5,000-user page is one Query of ~250 KB. Each segment is
 * spread over SHARDS partitions by a hash of the user id, so a big tag or a push to all is read by
 * SHARDS chains of pages in parallel and written far below a partition's 1,000 writes per second
 * (DynamoDB partition limits, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
 * Tags, names and values are URI-encoded in keys, so no `#` inside them can make two keys alike.
 */
export const SHARDS = 16;

export const profileKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "PUSHTAGS" });
export const userSortKey = (userId: string) => `U#${userId}`;
export const userOfSortKey = (sk: string) => sk.slice(2);
export const ATTR_NAMES_KEY = { pk: "PUSHCONFIG", sk: "ATTRNAMES" };

export function shardOf(userId: string): number {
  return createHash("sha256").update(userId).digest().readUInt32BE(0) % SHARDS;
}

export function segmentPartition(segment: Segment, shard: number): string {
  switch (segment.kind) {
    case "all":
      return `PALL#${shard}`;
    case "tag":
      return `PTAG#${encodeURIComponent(segment.tag)}#${shard}`;
    case "attr":
      return `PATTR#${encodeURIComponent(segment.name)}#${encodeURIComponent(segment.value)}#${shard}`;
  }
}

/** The index item of `userId` in `segment`. */
export function postingKey(segment: Segment, userId: string) {
  return { pk: segmentPartition(segment, shardOf(userId)), sk: userSortKey(userId) };
}
