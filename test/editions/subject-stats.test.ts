// The statistics of a subject test against values computed independently: scipy 1.17 in Python,
//   p = (c0 + c1) / (n0 + n1); se = sqrt(p (1 − p) (1/n0 + 1/n1)); z = (c1/n1 − c0/n0) / se
//   p-value = 2 * scipy.stats.norm.sf(abs(z))
import { describe, expect, it } from 'vitest';
import { decideSubjectTest, twoProportionZ } from '../../src/editions/subject-stats.ts';

describe('two-proportion z-test', () => {
  it.each([
    // [A clicked, A delivered, B clicked, B delivered, z, p] from scipy
    [28, 1200, 49, 1200, 2.432511757520502, 0.01499450468317571],
    [20, 1000, 26, 1000, 0.8950041574282731, 0.3707848655695143],
    [30, 1000, 45, 1000, 1.7654696590094991, 0.0774848651326447],
    [100, 5000, 130, 5000, 2.001290136154542, 0.04536113211527871],
  ])('A %i/%i against B %i/%i: z and p as scipy computes them', (c0, n0, c1, n1, z, p) => {
    const test = twoProportionZ({ clicked: c0, delivered: n0 }, { clicked: c1, delivered: n1 });
    expect(test?.z).toBeCloseTo(z, 9);
    // The erfc approximation is good to a relative 1.2e-7.
    expect(Math.abs((test?.p as number) - p) / p).toBeLessThan(2e-7);
  });

  it('a challenger doing worse gives a negative z (and the same two-sided p)', () => {
    const worse = twoProportionZ({ clicked: 49, delivered: 1200 }, { clicked: 28, delivered: 1200 });
    expect(worse?.z).toBeCloseTo(-2.432511757520502, 9);
    expect(worse?.p).toBeCloseTo(0.01499450468317571, 7);
  });

  it('is not run on zero clicks, nothing delivered, or too few expected clicks', () => {
    expect(twoProportionZ({ clicked: 0, delivered: 500 }, { clicked: 0, delivered: 500 })).toBeNull();
    expect(twoProportionZ({ clicked: 0, delivered: 0 }, { clicked: 3, delivered: 10 })).toBeNull();
    // 4 clicked of 40: 2 expected per arm, under 5
    expect(twoProportionZ({ clicked: 0, delivered: 20 }, { clicked: 4, delivered: 20 })).toBeNull();
    // every message clicked: no unclicked to compare
    expect(twoProportionZ({ clicked: 100, delivered: 100 }, { clicked: 100, delivered: 100 })).toBeNull();
  });
});

describe('the decision', () => {
  it('picks a challenger that beats A at the confidence, and says why in words', () => {
    // B 4.1 % against A 2.3 % of 1,200 each: p = 0.015 < 0.05
    const d = decideSubjectTest([{ delivered: 1200, clicked: 28 }, { delivered: 1200, clicked: 49 }], 0.95);
    expect(d.winner).toBe(1);
    expect(d.alpha).toBeCloseTo(0.05, 12);
    expect(d.reason).toBe('B: 4.1 % of 1,200 delivered clicked against 2.3 % for A; a two-proportion z-test gives p = 0.015 < 0.05');
  });

  it('keeps A when the difference is within chance, or at a stricter confidence', () => {
    const close = decideSubjectTest([{ delivered: 1000, clicked: 30 }, { delivered: 1000, clicked: 45 }], 0.95);
    expect(close.winner).toBeNull();
    expect(close.reason).toContain('no subject beat A at 95 %');
    expect(close.reason).toContain('B 4.5 % of 1,000, p = 0.077');
    // p = 0.015 passes at 95 % but not at 99 %
    expect(decideSubjectTest([{ delivered: 1200, clicked: 28 }, { delivered: 1200, clicked: 49 }], 0.99).winner).toBeNull();
  });

  it('holds each of several challengers to α / comparisons (Bonferroni)', () => {
    // B against A alone: p = 0.045 < 0.05 wins; among three challengers it must be under 0.05/3.
    const two = decideSubjectTest([{ delivered: 5000, clicked: 100 }, { delivered: 5000, clicked: 130 }], 0.95);
    expect(two.winner).toBe(1);
    const four = decideSubjectTest([{ delivered: 5000, clicked: 100 }, { delivered: 5000, clicked: 130 }, { delivered: 5000, clicked: 101 }, { delivered: 5000, clicked: 99 }], 0.95);
    expect(four.alpha).toBeCloseTo(0.05 / 3, 12);
    expect(four.winner).toBeNull();
    expect(four.reason).toContain('B 2.6 % of 5,000, p = 0.045');
  });

  it('of several challengers that beat A, the highest rate wins', () => {
    const d = decideSubjectTest([{ delivered: 1000, clicked: 10 }, { delivered: 1000, clicked: 40 }, { delivered: 1000, clicked: 60 }], 0.95);
    expect(d.comparisons.map((c) => c.significant)).toEqual([true, true]);
    expect(d.winner).toBe(2);
    expect(d.reason).toMatch(/^C: 6\.0 % of 1,000 delivered clicked against 1\.0 % for A; a two-proportion z-test gives p < 0\.0001 < 0\.025 \(0\.05 shared by 2 comparisons\)$/);
  });

  it('never lets a challenger that did worse win, however clear', () => {
    expect(decideSubjectTest([{ delivered: 1000, clicked: 80 }, { delivered: 1000, clicked: 10 }], 0.95).winner).toBeNull();
  });

  it('cannot show a winner on tiny samples or without clicks', () => {
    const tiny = decideSubjectTest([{ delivered: 10, clicked: 0 }, { delivered: 10, clicked: 4 }], 0.95);
    expect(tiny.winner).toBeNull();
    expect(tiny.reason).toContain('B 40.0 % of 10, too few clicks to test');
    const none = decideSubjectTest([{ delivered: 800, clicked: 0 }, { delivered: 800, clicked: 0 }, { delivered: 0, clicked: 0 }], 0.95);
    expect(none.winner).toBeNull();
    expect(none.comparisons.every((c) => c.p === null)).toBe(true);
  });
});
