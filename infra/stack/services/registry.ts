import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '../service.ts';
import { ports, versions } from '../settings.ts';
import { dist, home } from '../paths.ts';
import { fetchArtifact } from '../maven.ts';
import { runCommand, startDetached, stopStarted } from '../proc.ts';
import { findJava } from '../java.ts';

const url = `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`;

/** Apicurio 3.3 where a Java 21+ is installed; otherwise 3.0, the last that runs on Java 17. */
function pick(): { version: string; java: string; jar: string } {
  const java21 = findJava(21);
  if (java21) {
    const version = versions.registry.java21;
    return { version, java: java21, jar: join(home, `apicurio-${version}`, 'quarkus-run.jar') };
  }
  const java17 = findJava(17);
  if (!java17) throw new Error('Apicurio Registry needs Java 17 or newer: install openjdk-17-jre-headless');
  const version = versions.registry.java17;
  return { version, java: java17, jar: join(home, `apicurio-${version}`, `apicurio-registry-app-${version}-runner.jar`) };
}

export const registry: Service = {
  name: 'registry',
  endpoint: url,
  startTimeoutMs: 180_000,
  async probe() {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`GET /subjects answered ${res.status}`);
    if (!Array.isArray(await res.json())) throw new Error('GET /subjects did not answer a list');
  },
  provision() {
    const { version, jar } = pick();
    if (existsSync(jar)) return;
    console.error(`Fetching Apicurio Registry ${version} (io.apicurio:apicurio-registry-app, all) from Maven Central`);
    fetchArtifact(`io.apicurio:apicurio-registry-app:${version}:tar.gz:all`, dist);
    const target = join(home, `apicurio-${version}`);
    mkdirSync(target, { recursive: true });
    runCommand('tar', ['-xzf', join(dist, `apicurio-registry-app-${version}-all.tar.gz`), '-C', target]);
  },
  async start() {
    const { java, jar } = pick();
    // Schemas are kept in PostgreSQL (database sluice_registry) so their ids survive restarts;
    // deletion is enabled so that subjects can be deleted as with Confluent's registry.
    const props = {
      'quarkus.http.host': '127.0.0.1',
      'quarkus.http.port': String(ports.registry),
      // Quarkus would otherwise open its management interface (health) on 0.0.0.0:9000, the object store's port.
      'quarkus.management.host': '127.0.0.1',
      'quarkus.management.port': String(ports.registryManagement),
      'apicurio.storage.kind': 'sql',
      'apicurio.storage.sql.kind': 'postgresql',
      'apicurio.datasource.url': `jdbc:postgresql://127.0.0.1:${ports.postgres}/sluice_registry`,
      'apicurio.datasource.username': 'postgres',
      'apicurio.datasource.password': '',
      'apicurio.rest.deletion.artifact.enabled': 'true',
      'apicurio.rest.deletion.artifact-version.enabled': 'true',
      'apicurio.rest.deletion.group.enabled': 'true',
    };
    const defs = Object.entries(props).map(([k, v]) => `-D${k}=${v}`);
    return startDetached('registry', java, ['-Xmx512m', ...defs, '-jar', jar]);
  },
  stop: () => stopStarted('registry'),
};
