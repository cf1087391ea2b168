import { TimeWindows, windowsFor, isClosed, hours, minutes } from './windows.ts';

const hour = Date.UTC(2026, 10, 27, 10);

test('tumbling windows are epoch-aligned and half-open', () => {
  const spec = TimeWindows.tumbling({ size: hours(1), grace: minutes(10) });
  expect(windowsFor(spec, hour)).toEqual([{ start: hour, end: hour + hours(1) }]);
  expect(windowsFor(spec, hour + hours(1) - 1)).toEqual([{ start: hour, end: hour + hours(1) }]);
  expect(windowsFor(spec, hour - 1)).toEqual([{ start: hour - hours(1), end: hour }]);
  expect(windowsFor(spec, -1)).toEqual([{ start: -hours(1), end: 0 }]);
});

test('hopping windows: a record is in size/advance windows', () => {
  const spec = TimeWindows.hopping({ size: minutes(10), advance: minutes(5), grace: 0 });
  expect(windowsFor(spec, minutes(7))).toEqual([{ start: minutes(0), end: minutes(10) }, { start: minutes(5), end: minutes(15) }]);
  expect(windowsFor(spec, minutes(10))).toEqual([{ start: minutes(5), end: minutes(15) }, { start: minutes(10), end: minutes(20) }]);
});

test('a window closes when stream time reaches end + grace', () => {
  const spec = TimeWindows.tumbling({ size: hours(1), grace: minutes(10) });
  const [w] = windowsFor(spec, hour);
  expect(isClosed(spec, w!, hour + hours(1) + minutes(10) - 1)).toBe(false);
  expect(isClosed(spec, w!, hour + hours(1) + minutes(10))).toBe(true);
});

test('specs are validated, frozen, and say which field and unit is wrong', () => {
  expect(() => TimeWindows.tumbling({ size: hours(1) } as never)).toThrow('tumbling window: grace must be a whole number of milliseconds >= 0 (e.g. minutes(10)), got undefined');
  expect(() => TimeWindows.tumbling({ size: 0, grace: 0 })).toThrow('tumbling window: size must be a whole number of milliseconds >= 1');
  expect(() => TimeWindows.hopping({ size: minutes(10), advance: minutes(15), grace: 0 })).toThrow('hopping window: advance must be <= size (600000 ms), got 900000 ms');
  expect(() => TimeWindows.hopping({ size: minutes(10), advance: minutes(3), grace: 0 })).toThrow('must be a multiple of advance');
  expect(() => TimeWindows.tumbling({ size: 1.5, grace: 0 })).toThrow('size must be a whole number');
  const spec = TimeWindows.tumbling({ size: 1000, grace: 0 });
  expect(Object.isFrozen(spec)).toBe(true);
});
