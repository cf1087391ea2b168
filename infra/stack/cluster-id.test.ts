import { newClusterId } from './cluster-id.ts';

test('a new cluster id is a base64url UUID that never starts with "-" (StorageTool would read it as an option)', () => {
  const ids = Array.from({ length: 5000 }, newClusterId);
  for (const id of ids) {
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  }
  expect(new Set(ids).size).toBe(ids.length);
});
