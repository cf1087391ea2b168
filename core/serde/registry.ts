import { describe } from '../cli.ts';
import { SluiceError } from '../errors.ts';
import { STARTUP_TIMEOUT_MS, untilReady, type Startup } from '../retry.ts';

const contentType = 'application/vnd.schemaregistry.v1+json';

/** Retriable when the registry did not answer, or answered 5xx, 408 or 429. */
export class RegistryError extends SluiceError {
  override readonly name = 'RegistryError';
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    const retriable = status === undefined || status >= 500 || status === 408 || status === 429;
    super(message, { retriable, cause, context: { component: 'schema-registry' } });
    this.status = status;
  }
}

export interface CompatibilityResult {
  compatible: boolean;
  messages: string[];
}

/**
 * The parts of the Confluent Schema Registry REST API that Sluice uses. Subjects are always
 * passed explicitly, and nothing here changes a subject's compatibility level.
 */
export class RegistryClient {
  readonly url: string;
  private readonly startup: Startup;
  private answered = false;

  /**
   * Until the registry has answered once, a call waits for it (up to `startup.timeoutMs`, default
   * 60 s): at start-up it may come up a moment after the process. After that, calls fail at once.
   */
  constructor(url: string, startup: Startup = { timeoutMs: STARTUP_TIMEOUT_MS }) {
    this.url = url.replace(/\/+$/, '');
    this.startup = startup;
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    if (this.answered) return this.request(method, path, body);
    const first = await untilReady(`the schema registry at ${this.url}`, async () => {
      const r = await this.request(method, path, body);
      if (r.status >= 500) throw new RegistryError(`${method} ${path} answered ${r.status}: ${messageOf(r.json)}`, r.status);
      return r;
    }, this.startup);
    this.answered = true;
    return first;
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { 'content-type': contentType, accept: contentType },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      text = await res.text();
    } catch (err) {
      throw new RegistryError(`schema registry at ${this.url} did not answer ${method} ${path}: ${describe(err)}`, undefined, err);
    }
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // keep the text: some errors are plain
    }
    return { status: res.status, json };
  }

  private async expect<T>(method: string, path: string, body?: unknown, missingOk = false): Promise<T | undefined> {
    const { status, json } = await this.call(method, path, body);
    if (status === 404 && missingOk) return undefined;
    if (status >= 200 && status < 300) return json as T;
    throw new RegistryError(`${method} ${path} answered ${status}: ${messageOf(json)}`, status);
  }

  /** The schema text of a registered id, or undefined when the registry does not know the id. */
  async schemaById(id: number): Promise<string | undefined> {
    const r = await this.expect<{ schema: string }>('GET', `/schemas/ids/${id}`, undefined, true);
    return r?.schema;
  }

  /** The id and version under which `schema` is registered in `subject`, if it is. */
  async lookup(subject: string, schema: string): Promise<{ id: number; version: number } | undefined> {
    return this.expect('POST', `/subjects/${encodeURIComponent(subject)}`, { schema }, true);
  }

  async register(subject: string, schema: string): Promise<{ id: number }> {
    return (await this.expect<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema }))!;
  }

  async versions(subject: string): Promise<number[]> {
    return (await this.expect<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions`, undefined, true)) ?? [];
  }

  async version(subject: string, version: number): Promise<{ id: number; version: number; schema: string }> {
    return (await this.expect<{ id: number; version: number; schema: string }>('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`))!;
  }

  /** The subject's own compatibility level, or undefined when it has none. */
  async compatibilityLevel(subject: string): Promise<string | undefined> {
    const r = await this.expect<{ compatibilityLevel: string }>('GET', `/config/${encodeURIComponent(subject)}`, undefined, true);
    return r?.compatibilityLevel;
  }

  /** Asks the registry whether `schema` may follow the latest version under the subject's level. */
  async testCompatibility(subject: string, schema: string): Promise<CompatibilityResult> {
    const r = await this.expect<{ is_compatible: boolean; messages?: string[] }>(
      'POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, { schema });
    return { compatible: r!.is_compatible, messages: r!.messages ?? [] };
  }
}

const messageOf = (json: unknown) => (typeof json === 'object' && json !== null && 'message' in json ? String(json.message) : String(json));
