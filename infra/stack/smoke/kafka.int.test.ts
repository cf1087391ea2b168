import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { conn, uniqueName } from './connections.ts';

test('a 6-partition topic carries every produced record to a consumer group', async () => {
  const kafka = new Kafka({ brokers: conn.KAFKA_BROKERS, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  // The Java client's murmur2 partitioner, so keys land where Kafka Streams would put them.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const topic = uniqueName('smoke');
  const consumer = kafka.consumer({ groupId: topic });
  await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(6);

    const sent = Array.from({ length: 600 }, (_, i) => ({ key: `device-${i % 60}`, value: `reading-${i}` }));
    await producer.sendBatch({ topicMessages: [{ topic, messages: sent }] });

    const received: string[] = [];
    const partitions = new Set<number>();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          partitions.add(partition);
          received.push(`${message.key}=${message.value}`);
          if (received.length === sent.length) resolve();
        },
      });
    });
    expect(received.sort()).toEqual(sent.map((m) => `${m.key}=${m.value}`).sort());
    expect(partitions.size).toBeGreaterThan(1);
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test('topics are not created by producing to them', async () => {
  const kafka = new Kafka({ brokers: conn.KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await expect(producer.send({ topic: uniqueName('never-created'), messages: [{ value: 'x' }] })).rejects.toThrow();
  } finally {
    await producer.disconnect();
  }
});
