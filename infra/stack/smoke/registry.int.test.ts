import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { conn, uniqueName } from './connections.ts';

const v1 = {
  type: 'record', name: 'Reading', namespace: 'dev.sluice.smoke',
  fields: [{ name: 'device_id', type: 'string' }, { name: 'value', type: 'double' }],
};
const v2 = { ...v1, fields: [...v1.fields, { name: 'unit', type: 'string', default: '' }] };

test('an Avro schema registers under an explicit subject and round-trips in the Confluent wire format', async () => {
  const registry = new SchemaRegistry({ host: conn.SCHEMA_REGISTRY_URL });
  const subject = `${uniqueName('smoke')}-value`;
  const opts = { subject, compatibility: COMPATIBILITY.BACKWARD };

  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, opts);
  const bytes = await registry.encode(id, { device_id: 'd-1', value: 22.5 });
  expect(bytes[0]).toBe(0); // magic byte
  expect(bytes.readInt32BE(1)).toBe(id);
  expect(await registry.decode(bytes)).toEqual({ device_id: 'd-1', value: 22.5 });

  // A compatible second version gets a new id; records written with v1 still decode with v1.
  const second = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, opts);
  expect(second.id).not.toBe(id);
  expect(await registry.getLatestSchemaId(subject)).toBe(second.id);
  const fresh = new SchemaRegistry({ host: conn.SCHEMA_REGISTRY_URL });
  expect(await fresh.decode(bytes)).toEqual({ device_id: 'd-1', value: 22.5 });

  const res = await fetch(`${conn.SCHEMA_REGISTRY_URL}/config/${subject}`);
  expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
});

test('the registry refuses a change that breaks BACKWARD compatibility', async () => {
  const registry = new SchemaRegistry({ host: conn.SCHEMA_REGISTRY_URL });
  const subject = `${uniqueName('smoke')}-value`;
  const opts = { subject, compatibility: COMPATIBILITY.BACKWARD };
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, opts);
  const breaking = { ...v1, fields: [...v1.fields, { name: 'unit', type: 'string' }] }; // no default
  await expect(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, opts)).rejects.toThrow();
});
