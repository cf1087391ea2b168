// A private single-node Kafka for the test of an outage: the shared one must never go down. It
// runs from the classpath bin/stack fetched, with infra/stack/kafka/server.properties.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../../../core/runtime/testdata/harness.ts';
import { newClusterId } from '../../../infra/stack/cluster-id.ts';
import { findJava } from '../../../infra/stack/java.ts';
import { versions } from '../../../infra/stack/settings.ts';
import { freePort } from './broker.ts';

const stackKafka = join(__dirname, '..', '..', '..', 'infra', 'stack', 'kafka');

export interface PrivateKafka {
  brokers: string;
  /** SIGKILL: a crash, with no goodbye to the clients. */
  kill(): Promise<void>;
  /** Starts the broker and resolves once it answers. */
  start(): Promise<void>;
}

async function answers(brokers: string): Promise<true | undefined> {
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const classpath = join(process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice'), `kafka-${versions.kafka}`, 'classpath.txt');
  const java = findJava(17);
  if (!existsSync(classpath) || !java) throw new Error(`a private Kafka needs ${classpath} (bin/stack up fetches it) and Java 17+`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const conf = join(dir, 'server.properties');
  writeFileSync(conf, readFileSync(join(stackKafka, 'server.properties'), 'utf8')
    .replaceAll('@LOG_DIRS@', join(dir, 'logs')).replaceAll('@PORT@', String(port)).replaceAll('@CONTROLLER_PORT@', String(controller)));
  const args = [`-Dlog4j2.configurationFile=${join(stackKafka, 'log4j2.properties')}`, '-cp', readFileSync(classpath, 'utf8').trim()];
  const format = spawnSync(java, [...args, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', conf], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`formatting the private Kafka failed: ${format.stderr || format.stdout}`);
  let child: ChildProcess | undefined;
  const kafka: PrivateKafka = {
    brokers: `127.0.0.1:${port}`,
    async start() {
      const out = openSync(join(dir, 'kafka.log'), 'a');
      child = spawn(java, ['-Xms128m', '-Xmx384m', ...args, 'kafka.Kafka', conf], { stdio: ['ignore', out, out] });
      await waitFor(`the private Kafka (log ${dir}/kafka.log)`, () => answers(kafka.brokers), 90_000);
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await exited;
    },
  };
  await kafka.start();
  return kafka;
}
