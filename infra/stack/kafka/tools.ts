// bin/kafka <tool> [args…]: Apache Kafka's command-line tools, of the stack's Kafka release, against the
// stack. The classpath (org.apache.kafka:kafka-tools and dependencies, tools-pom.xml) is fetched from
// Maven Central on first use into $SLUICE_HOME. This script only works out the java command line and
// writes it, NUL-separated, to file descriptor 3; bin/kafka then execs it, so that the tool has the
// terminal, the signals and the exit status to itself.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { home } from '../paths.ts';
import { ports, versions } from '../settings.ts';
import { resolveClasspath } from '../maven.ts';
import { findJava } from '../java.ts';

const here = import.meta.dirname;
const classpathFile = join(home, `kafka-${versions.kafka}`, 'tools-classpath.txt');

/**
 * Where the stack's address goes when the user names no broker: `first` (before every other argument,
 * where the argparse4j tools want their global options), `subcommand` (after the first argument, for
 * tools whose options belong to each subcommand), or nowhere (tools that take no broker address).
 */
type Bootstrap = 'first' | 'subcommand' | undefined;
interface Tool { main: string; about: string; bootstrap: Bootstrap; flag: string }

const t = (main: string, bootstrap: Bootstrap, about: string, flag = '--bootstrap-server'): Tool =>
  ({ main: main.startsWith('kafka.') ? main : `org.apache.kafka.tools.${main}`, bootstrap, about, flag });

/** Named as Kafka's bin/kafka-<name>.sh scripts; main classes as found (and run) in the 4.4.0 jars: since 4.0–4.2, acls, configs
 * and dump-log moved from kafka.admin / kafka.tools (kafka_2.13) to org.apache.kafka.tools; storage is still in kafka_2.13. */
export const tools: Record<string, Tool> = {
  'acls': t('AclCommand', 'first', 'list, add and remove ACLs'),
  'broker-api-versions': t('BrokerApiVersionsCommand', 'first', 'the API versions each broker supports'),
  'client-metrics': t('ClientMetricsCommand', 'first', 'client metrics subscriptions'),
  'cluster': t('ClusterTool', 'subcommand', 'cluster id, unregister a broker, list endpoints'),
  'configs': t('ConfigCommand', 'first', 'describe and alter topic, broker, client and group configs'),
  'console-consumer': t('consumer.ConsoleConsumer', 'first', 'print the records of a topic'),
  'console-producer': t('ConsoleProducer', 'first', 'write lines of stdin to a topic as records'),
  'console-share-consumer': t('consumer.ConsoleShareConsumer', 'first', 'print records consumed in a share group'),
  'consumer-groups': t('consumer.group.ConsumerGroupCommand', 'first', 'list, describe, reset offsets of and delete consumer groups'),
  'consumer-perf-test': t('ConsumerPerformance', 'first', 'consumer throughput test'),
  'delegation-tokens': t('DelegationTokenCommand', 'first', 'create, renew, expire and describe delegation tokens'),
  'delete-records': t('DeleteRecordsCommand', 'first', 'delete records up to an offset (JSON file of partitions)'),
  'dump-log': t('DumpLogSegments', undefined, 'print the contents of log segment files ($SLUICE_HOME/data/kafka/logs)'),
  'e2e-latency': t('EndToEndLatency', 'first', 'end-to-end latency test'),
  'features': t('FeatureCommand', 'first', 'describe, upgrade and downgrade feature levels'),
  'get-offsets': t('GetOffsetShell', 'first', 'offsets of topic partitions (earliest, latest, by time)'),
  'groups': t('GroupsCommand', 'first', 'list groups of every type'),
  'jmx': t('JmxTool', undefined, 'read JMX metrics'),
  'leader-election': t('LeaderElectionCommand', 'first', 'elect partition leaders'),
  'log-dirs': t('LogDirsCommand', 'first', 'log directories and partition sizes per broker'),
  'metadata-quorum': t('MetadataQuorumCommand', 'first', 'the KRaft quorum: leader, voters, lag'),
  'producer-perf-test': t('ProducerPerformance', 'first', 'producer throughput test'),
  'reassign-partitions': t('reassign.ReassignPartitionsCommand', 'first', 'move partitions between brokers and log dirs'),
  'replica-verification': t('ReplicaVerificationTool', 'first', 'check that replicas hold the same data', '--broker-list'),
  'share-consumer-perf-test': t('ShareConsumerPerformance', 'first', 'share consumer throughput test'),
  'share-groups': t('consumer.group.ShareGroupCommand', 'first', 'list, describe and delete share groups'),
  'storage': t('kafka.tools.StorageTool', undefined, 'format and inspect KRaft log directories'),
  'streams-application-reset': t('StreamsResetter', 'first', 'reset a Kafka Streams application'),
  'streams-groups': t('streams.StreamsGroupCommand', 'first', 'list, describe and delete streams groups'),
  'topics': t('TopicCommand', 'first', 'create, list, describe, alter and delete topics'),
  'transactions': t('TransactionsCommand', 'first', 'list, describe and abort transactions'),
  'verifiable-consumer': t('VerifiableConsumer', 'first', 'a consumer that reports what it does as JSON'),
  'verifiable-producer': t('VerifiableProducer', 'first', 'a producer that reports what it does as JSON'),
};

/** Options by which the user names the brokers (or controllers) themselves. */
const addressOptions = ['--bootstrap-server', '--bootstrap-controller', '--broker-list'];
const namesAddress = (args: readonly string[]) => args.some((a) => addressOptions.some((o) => a === o || a.startsWith(`${o}=`)));

/** The tool's arguments with `--bootstrap-server <brokers>` added where the tool wants it, unless the user named an address. */
export function withBootstrap(tool: Tool, args: readonly string[], brokers: string): string[] {
  if (!tool.bootstrap || namesAddress(args)) return [...args];
  const flag = [tool.flag, brokers];
  if (tool.bootstrap === 'first') return [...flag, ...args];
  // A subcommand first (`cluster cluster-id`); bare `cluster` or `cluster --help` is left as typed.
  const [sub, ...rest] = args;
  return sub === undefined || sub.startsWith('-') ? [...args] : [sub, ...flag, ...rest];
}

const splitOpts = (value: string | undefined, fallback: string) => (value ?? fallback).split(/\s+/).filter(Boolean);

function classpath(): string {
  if (existsSync(classpathFile)) {
    const cp = readFileSync(classpathFile, 'utf8').trim();
    if (cp.split(':').every((jar) => existsSync(jar))) return cp;
  }
  mkdirSync(join(home, `kafka-${versions.kafka}`), { recursive: true });
  console.error(`Fetching the tools of Apache Kafka ${versions.kafka} (org.apache.kafka:kafka-tools and dependencies) from Maven Central`);
  // Written aside and renamed, so that a second bin/kafka started meanwhile never reads half a file.
  const partial = `${classpathFile}.${process.pid}`;
  resolveClasspath(join(here, 'tools-pom.xml'), partial, { 'kafka.version': versions.kafka });
  renameSync(partial, classpathFile);
  return readFileSync(classpathFile, 'utf8').trim();
}

/** The java command line that runs `name` with `args`, as Kafka's kafka-run-class.sh would (same JVM options and variables). */
export function javaCommand(name: string, args: readonly string[]): string[] {
  const tool = tools[name];
  if (!tool) throw new Error(`unknown tool ${name}`);
  const java = findJava(17);
  if (!java) throw new Error('the Kafka 4 tools need Java 17 or newer: install openjdk-17-jre-headless');
  const brokers = process.env.KAFKA_BROKERS || `127.0.0.1:${ports.kafka}`;
  return [
    java,
    ...splitOpts(process.env.KAFKA_HEAP_OPTS, '-Xmx256M'),
    ...splitOpts(process.env.KAFKA_JVM_PERFORMANCE_OPTS, '-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true'),
    ...splitOpts(process.env.KAFKA_LOG4J_OPTS, `-Dlog4j2.configurationFile=${join(here, 'tools-log4j2.properties')}`),
    '-cp', classpath(),
    ...splitOpts(process.env.KAFKA_OPTS, ''),
    tool.main,
    ...withBootstrap(tool, args, brokers),
  ];
}

const width = Math.max(...Object.keys(tools).map((n) => n.length));
const usage = () => `usage: bin/kafka <tool> [options]   (bin/kafka <tool> --help: the tool's own options)

Apache Kafka ${versions.kafka}'s command-line tools, bin/kafka-<tool>.sh of the Kafka distribution.
--bootstrap-server $KAFKA_BROKERS (default 127.0.0.1:9092, the stack) is added when no
--bootstrap-server or --bootstrap-controller is given. KAFKA_HEAP_OPTS, KAFKA_OPTS and
KAFKA_LOG4J_OPTS work as with Kafka's scripts. Fetched on first use into ${join(home, `kafka-${versions.kafka}`)}.

tools:
${Object.entries(tools).map(([n, tool]) => `  ${n.padEnd(width)}  ${tool.about}`).join('\n')}`;

function main(argv: string[]): number {
  const [name, ...args] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === undefined || !Object.hasOwn(tools, name)) {
    console.error(`${name === undefined ? 'bin/kafka: which tool?' : `bin/kafka: no tool '${name}'`}\n\n${usage()}`);
    return 2;
  }
  writeFileSync(3, javaCommand(name, args).map((a) => `${a}\0`).join(''));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`bin/kafka: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
