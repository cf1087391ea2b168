import { z } from 'zod';
const f = z.preprocess((v) => (v === '' ? undefined : v), z.enum(['info', 'debug']).default('info')).describe('Level');
const s = z.object({ f });
console.log(JSON.stringify(z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }).properties), s.parse({ f: '' }), s.parse({}));
