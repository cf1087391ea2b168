import { ConfigError } from './errors.ts';

const topologyName = /^[a-z][a-z0-9-]{0,62}$/;
/** Kafka's own rule for topic names. */
const topicName = /^[a-zA-Z0-9._-]{1,249}$/;

/** The dead-letter topic shared by every topology; its headers say where a record came from. */
export const DLQ_TOPIC = 'sluice.dlq';

export function assertTopologyName(name: string): void {
  if (!topologyName.test(name)) {
    throw new ConfigError(`topology name must match ${topologyName}, got ${JSON.stringify(name)}`);
  }
}

export function assertTopicName(topic: string): void {
  if (!topicName.test(topic) || topic === '.' || topic === '..') {
    throw new ConfigError(`topic name must match ${topicName}, got ${JSON.stringify(topic)}`);
  }
}

/** The consumer group of a topology is its name, so renaming a topology is a new application. */
export const consumerGroup = (topology: string) => topology;

/** Internal topics are named from the topology and the store, never from operator positions. */
export const changelogTopic = (topology: string, store: string) => `${topology}-${store}-changelog`;

/** The transactional id of the one writer of a partition's changelogs (as Kafka Streams' `<application>-<task>`). */
export const changelogWriterId = (topology: string, partition: number) => `${topology}-changelogs-${partition}`;

/** Confluent's TopicNameStrategy. */
export const valueSubject = (topic: string) => `${topic}-value`;
