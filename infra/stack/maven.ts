import { runCommand } from './proc.ts';

// Pinned so that `copy -Dartifact` behaves the same whatever Maven's default plugin version is.
const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** Batch mode hides the byte counter; keep it when a person is watching. */
function mvn(args: string[]): void {
  const mode = process.stderr.isTTY ? [] : ['-B'];
  const repo = process.env.SLUICE_MAVEN_REPO ? [`-Dmaven.repo.local=${process.env.SLUICE_MAVEN_REPO}`] : [];
  runCommand('mvn', [...mode, ...repo, '-Dstyle.color=never', ...args]);
}

/** Copies one artifact (`group:artifact:version[:type[:classifier]]`) from Maven Central into `outDir`. */
export function fetchArtifact(artifact: string, outDir: string): void {
  mvn([`${dependencyPlugin}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${outDir}`]);
}

/** Resolves a POM's runtime dependencies and writes their classpath to `outFile`. */
export function resolveClasspath(pom: string, outFile: string, props: Record<string, string>): void {
  const defs = Object.entries(props).map(([k, v]) => `-D${k}=${v}`);
  mvn(['-f', pom, ...defs, `${dependencyPlugin}:build-classpath`, '-Dmdep.includeScope=runtime', `-Dmdep.outputFile=${outFile}`]);
}
