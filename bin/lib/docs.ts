import type { z } from 'zod';
import { runtimeSchema, settingDocs, settingsMarkdown } from '../../core/component.ts';
import { ingestSchema } from '../../connectors/mqtt/ingest-settings.ts';
import { timescaleSchema } from '../../sinks/timescale/timescale-settings.ts';
import { archiveSchema } from '../../sinks/archive/archive-settings.ts';
import { alertingSchema } from '../../topologies/alerting/rules.ts';
import { hourlySchema } from '../../topologies/hourly-aggregates.ts';

/** The README's sections `<!-- settings: <name> -->` … `<!-- /settings -->`, and what each documents. */
export const sections: Readonly<Record<string, { schemas: z.ZodType[]; except?: z.ZodObject[] }>> = {
  runtime: { schemas: [runtimeSchema] },
  ingest: { schemas: [ingestSchema], except: [runtimeSchema] },
  timescale: { schemas: [timescaleSchema] },
  alerting: { schemas: [alertingSchema] },
  hourly: { schemas: [hourlySchema] },
  archive: { schemas: [archiveSchema] },
};

const block = /(<!-- settings: ([a-z-]+) -->\n)[\s\S]*?(<!-- \/settings -->)/g;

/** `text` with every settings section made again from the declarations; an unknown section name throws. */
export function renderSettings(text: string): string {
  return text.replace(block, (_, open: string, name: string, close: string) => {
    const s = sections[name];
    if (!s) throw new Error(`README: unknown settings section "${name}"; known: ${Object.keys(sections).join(', ')}`);
    return `${open}${settingsMarkdown(settingDocs(s.schemas, s.except))}\n${close}`;
  });
}
