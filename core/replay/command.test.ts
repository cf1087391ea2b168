import { parseAction } from './command.ts';

const now = Date.UTC(2026, 10, 27, 12);

test('the options choose a replay range or a reset', () => {
  expect(parseAction({ from: '2026-11-27T08:00:00Z' }, now)).toEqual({ kind: 'replay', from: Date.UTC(2026, 10, 27, 8), to: undefined });
  expect(parseAction({ from: '0', to: '2026-11-27T09:00:00+01:00' }, now)).toEqual({ kind: 'replay', from: 0, to: Date.UTC(2026, 10, 27, 8) });
  expect(parseAction({ last: '6h' }, now)).toEqual({ kind: 'replay', from: Date.UTC(2026, 10, 27, 6) });
  expect(parseAction({ resetTo: '2026-11-27T08:00:00Z' }, now)).toEqual({ kind: 'reset', time: Date.UTC(2026, 10, 27, 8) });
});

test.each([
  [{}, 'give exactly one of --from, --last and --reset-to'],
  [{ from: '0', last: '6h' }, 'give exactly one of --from, --last and --reset-to'],
  [{ last: '6h', to: '0' }, '--to goes with --from, not with --last'],
  [{ resetTo: '0', to: '0' }, '--to goes with --from, not with --reset-to'],
  [{ from: '2026-11-27T08:00:00Z', to: '2026-11-27T08:00:00Z' }, '--to must be after --from, got --from 2026-11-27T08:00:00.000Z --to 2026-11-27T08:00:00.000Z'],
  [{ resetTo: '2026-11-27 08:00' }, '--reset-to must be ISO 8601 with a timezone'],
])('%j is refused', (args, message) => {
  expect(() => parseAction(args, now)).toThrow(message);
});
