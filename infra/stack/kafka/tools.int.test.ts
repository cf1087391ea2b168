import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { connectKafka, type KafkaAdapter } from '../../../core/kafka/adapter.ts';
import { conn, uniqueName } from '../smoke/connections.ts';

const bin = join(__dirname, '..', '..', '..', 'bin', 'kafka');

interface Run { code: number; stdout: string; stderr: string }

/** Runs `bin/kafka …` to its end (each tool is a JVM: a few seconds). */
function kafkaTool(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, KAFKA_BROKERS: conn.KAFKA_BROKERS.join(',') }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The rows of `consumer-groups --describe` as Kafka prints them: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID. */
const describeRows = (stdout: string, group: string) =>
  stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((cols) => cols[0] === group);

const topic = uniqueName('kafka-tools');
const group = uniqueName('kafka-tools-group');
let kafka: KafkaAdapter;

beforeAll(async () => {
  // The first bin/kafka call on a machine fetches the tools from Maven Central.
  const version = await kafkaTool('topics', '--version');
  expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^4\.4\.\d/) });
  kafka = await connectKafka(conn.KAFKA_BROKERS, 'kafka-tools-test', pino({ level: 'silent' }));
}, 600_000);

afterAll(async () => {
  await kafka?.deleteGroupAndTopics(group, [topic]);
  await kafka?.close();
});

test('topics --create makes a topic that topics --list then shows', async () => {
  const created = await kafkaTool('topics', '--create', '--topic', topic, '--partitions', '3', '--replication-factor', '1');
  expect(created.code).toBe(0);
  expect(created.stdout).toContain(`Created topic ${topic}.`);
  const listed = await kafkaTool('topics', '--list');
  expect(listed.code).toBe(0);
  expect(listed.stdout.split('\n')).toContain(topic);
  // No slf4j or log4j complaints on stderr: a binding and a configuration are on the classpath.
  expect(listed.stderr).not.toMatch(/SLF4J|log4j/i);
});

test('consumer-groups --describe prints the partitions, offsets and lag of a group that console-consumer committed', async () => {
  const records = (partition: number, n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({ key: null, partition, value: Buffer.from(`${tag}-${partition}-${i}`) }));
  // New partitions may still lack a leader just after topics --create: wait until they have one.
  await kafka.ensureTopics([{ topic, partitions: 3 }]);
  await kafka.send([{ topic, messages: [...records(0, 5, 'first'), ...records(1, 3, 'first')] }]);

  // Reads the 8 records, commits its position when it stops (enable.auto.commit, on close).
  const consumed = await kafkaTool('console-consumer', '--topic', topic, '--group', group, '--from-beginning', '--max-messages', '8', '--timeout-ms', '60000');
  expect(consumed.code).toBe(0);
  expect(consumed.stdout.trim().split('\n').sort()).toEqual([...records(0, 5, 'first'), ...records(1, 3, 'first')].map((r) => r.value.toString()).sort());

  // Two more on partition 1, after the commit: the group lags 2 behind there.
  await kafka.send([{ topic, messages: records(1, 2, 'later') }]);
  await expect(kafka.watermarks(topic)).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ partition: 1, high: '5' })]));

  const described = await kafkaTool('consumer-groups', '--describe', '--group', group);
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/);
  const rows = describeRows(described.stdout, group);
  // The group has no members now: consumer id, host and client id are '-'.
  expect(rows).toContainEqual([group, topic, '0', '5', '5', '0', '-', '-', '-']);
  expect(rows).toContainEqual([group, topic, '1', '3', '5', '2', '-', '-', '-']);
  // Partition 2 holds nothing: listed with offset 0 if the consumer committed a position there, else not at all.
  const rest = rows.filter((r) => r[2] !== '0' && r[2] !== '1');
  expect(rest.every((r) => r.join(' ') === `${group} ${topic} 2 0 0 0 - - -`)).toBe(true);
  expect(described.stderr).toContain(`Consumer group '${group}' has no active members.`);
});

test('an unknown tool prints the list of tools and exits 2', async () => {
  const run = await kafkaTool('no-such-tool');
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("no tool 'no-such-tool'");
  expect(run.stderr).toMatch(/^\s+consumer-groups\s/m);
  expect(run.stderr).toMatch(/^\s+topics\s/m);
});
