import { faultKinds, faultPoints, planFaults, WARMUP_MS, type Plan } from './schedule.ts';

const countOf = (plan: Plan, kind: string) => plan.faults.filter((f) => f.kind === kind).length;

describe('planFaults', () => {
  it('puts every kind of fault at least once into the short profile (5 minutes), for any seed', () => {
    for (let seed = 0; seed < 50; seed++) {
      const plan = planFaults({ minutes: 5, seed });
      for (const kind of faultKinds) expect([seed, kind, countOf(plan, kind)]).not.toEqual([seed, kind, 0]);
    }
  });

  it('never overlaps two faults, starts after the warm-up and ends within the run', () => {
    for (const minutes of [5, 12, 60]) {
      for (let seed = 0; seed < 20; seed++) {
        const { faults } = planFaults({ minutes, seed });
        expect(faults[0]!.at).toBeGreaterThanOrEqual(WARMUP_MS);
        for (let i = 1; i < faults.length; i++) expect(faults[i]!.at).toBeGreaterThanOrEqual(faults[i - 1]!.at + faults[i - 1]!.budgetMs);
        const last = faults.at(-1)!;
        expect(last.at + last.budgetMs).toBeLessThanOrEqual(minutes * 60_000);
        for (const f of faults) expect(f.budgetMs).toBeGreaterThanOrEqual(f.holdMs);
      }
    }
  });

  it('is a pure function of minutes and seed', () => {
    expect(planFaults({ minutes: 5, seed: 7 })).toEqual(planFaults({ minutes: 5, seed: 7 }));
    expect(planFaults({ minutes: 5, seed: 7 }).faults).not.toEqual(planFaults({ minutes: 5, seed: 8 }).faults);
  });

  it('repeats every kind several times in the long profile, with outages of 120 s, and goes through the fault points', () => {
    const plan = planFaults({ minutes: 60, seed: 3 });
    expect(plan.outageMs).toBe(120_000);
    for (const kind of faultKinds) expect(countOf(plan, kind)).toBeGreaterThanOrEqual(3);
    expect(plan.faults.find((f) => f.kind === 'registry-outage')!.holdMs).toBe(120_000);
    const points = new Set(plan.faults.filter((f) => f.point).map((f) => `${f.topology} ${f.point}`));
    expect(points.size).toBe(Math.min(faultPoints.length, countOf(plan, 'fault-point')));
  });

  it('aims process faults at processes that exist', () => {
    const { faults } = planFaults({ minutes: 60, seed: 11 });
    for (const f of faults.filter((x) => x.kind === 'pause-instance' || x.kind === 'rebalance-storm')) {
      expect(['timescale-sink', 'hourly-aggregates', 'archiver']).toContain(f.topology);
    }
    for (const f of faults.filter((x) => x.kind === 'kill' || x.kind === 'fault-point')) {
      const max = ['ingest', 'alerting'].includes(f.topology!) ? 0 : 1;
      expect(f.instance).toBeLessThanOrEqual(max);
    }
    for (const f of faults.filter((x) => x.kind === 'fault-point')) expect(f.nth).toBeGreaterThanOrEqual(1);
  });

  it('refuses a run too short for one fault of each kind, and says how long it must be', () => {
    expect(() => planFaults({ minutes: 3, seed: 1 })).toThrow(/--minutes 3 is too short .* need 5 minutes/);
    expect(() => planFaults({ minutes: 0, seed: 1 })).toThrow(/--minutes must be a positive number/);
  });
});
