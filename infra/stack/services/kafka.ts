import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Service } from '../service.ts';
import { ports, versions } from '../settings.ts';
import { data, home } from '../paths.ts';
import { resolveClasspath } from '../maven.ts';
import { runCommand, startDetached, stopStarted } from '../proc.ts';
import { findJava } from '../java.ts';
import { newClusterId } from '../cluster-id.ts';

const here = import.meta.dirname;
const classpathFile = join(home, `kafka-${versions.kafka}`, 'classpath.txt');
const dir = join(data, 'kafka');
const logDir = join(dir, 'logs');

function java(): string {
  const bin = findJava(17);
  if (!bin) throw new Error('Kafka 4 needs Java 17 or newer: install openjdk-17-jre-headless');
  return bin;
}

function writeConfig(): string {
  const template = readFileSync(join(here, '..', 'kafka', 'server.properties'), 'utf8');
  const conf = join(dir, 'server.properties');
  writeFileSync(conf, template.replaceAll('@LOG_DIRS@', logDir).replaceAll('@PORT@', String(ports.kafka)).replaceAll('@CONTROLLER_PORT@', String(ports.kafkaController)));
  return conf;
}

export const kafka: Service = {
  name: 'kafka',
  endpoint: `127.0.0.1:${ports.kafka}`,
  startTimeoutMs: 120_000,
  async probe() {
    const client = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], logLevel: logLevel.NOTHING, connectionTimeout: 2000, retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
      // Answers only once the group coordinator has loaded __consumer_offsets.
      await admin.describeGroups(['sluice-stack-probe']);
    } finally {
      await admin.disconnect();
    }
  },
  provision() {
    if (existsSync(classpathFile)) return;
    mkdirSync(join(home, `kafka-${versions.kafka}`), { recursive: true });
    console.error(`Fetching Apache Kafka ${versions.kafka} (org.apache.kafka:kafka_2.13 and dependencies) from Maven Central`);
    resolveClasspath(join(here, '..', 'kafka', 'pom.xml'), classpathFile, { 'kafka.version': versions.kafka });
  },
  async start() {
    mkdirSync(logDir, { recursive: true });
    const conf = writeConfig();
    const cp = ['-cp', readFileSync(classpathFile, 'utf8').trim()];
    const log4j = `-Dlog4j2.configurationFile=${join(here, '..', 'kafka', 'log4j2.properties')}`;
    if (!existsSync(join(logDir, 'meta.properties'))) {
      // Warnings only: at INFO the tool prints its whole broker configuration, 380 lines, into a newcomer's first run.
      const quiet = `-Dlog4j2.configurationFile=${join(here, '..', 'kafka', 'tools-log4j2.properties')}`;
      runCommand(java(), [quiet, ...cp, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', conf]);
    }
    return startDetached('kafka', java(), ['-Xms512m', '-Xmx1g', '-XX:+UseG1GC', log4j, ...cp, 'kafka.Kafka', conf]);
  },
  stop: () => stopStarted('kafka', 60_000),
};
