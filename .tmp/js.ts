import { z } from 'zod';
import { ingestSchema } from '../connectors/mqtt/ingest-settings.ts';
import { archiveSchema } from '../sinks/archive/archive-settings.ts';
import { alertingSchema } from '../topologies/alerting/rules.ts';
const t = z.string().default('a').transform((s) => s.length).describe('outer desc');
console.log(JSON.stringify(z.toJSONSchema(z.object({ t }), { io: 'input', unrepresentable: 'any' })));
for (const s of [ingestSchema, archiveSchema, alertingSchema]) {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as any;
  console.log(Object.keys(j.properties).length, JSON.stringify(j.properties.MQTT_TOPIC_TEMPLATE ?? j.properties.ARCHIVE_COMPRESSION ?? j.properties.ALERT_BOUNDS), j.required);
}
