// The statistics of a subject test, pure: per arm the messages delivered and the messages clicked
// (at least one counted click), and whether a challenger's click rate beats the first subject's
// (arm 0, "A") by more than chance explains.
//
// Each challenger is compared with A by a two-sided two-proportion z-test (pooled variance). With
// several challengers, several tests each get a chance to pass by luck: Bonferroni's correction
// runs each at α / (arms − 1), so the chance that any challenger "wins" when none is better stays
// at most α (1 − confidence). Among the challengers that pass, the highest rate wins; two that both
// pass are not tested against each other (each is better than A at the confidence asked). None
// passes: A goes. The normal approximation needs enough clicks: a comparison where either arm
// expects fewer than 5 clicked (or 5 unclicked) messages is not tested, and cannot win.

export interface ArmFigures {
  delivered: number;
  clicked: number;
}

export interface Comparison {
  /** The challenger, compared with arm 0. */
  arm: number;
  /** null: too few messages or clicks to test. */
  z: number | null;
  p: number | null;
  significant: boolean;
}

export interface Decision {
  /** The arm that goes to the rest; null: none beat A, so A (arm 0) goes. */
  winner: number | null;
  confidence: number;
  /** The level each comparison is held to: (1 − confidence) / comparisons. */
  alpha: number;
  arms: Array<ArmFigures & { rate: number }>;
  comparisons: Comparison[];
  /** In words, for the desk and the log. */
  reason: string;
}

/** Fewer expected clicked (or unclicked) messages than this in an arm: the normal approximation does not hold. */
export const MIN_EXPECTED = 5;

export function armLetter(arm: number): string {
  return String.fromCharCode(65 + arm);
}

/** Two-sided two-proportion z-test of b against a (pooled); null when the counts are too small. */
export function twoProportionZ(a: ArmFigures, b: ArmFigures): { z: number; p: number } | null {
  if (a.delivered === 0 || b.delivered === 0) return null;
  const pooled = (a.clicked + b.clicked) / (a.delivered + b.delivered);
  const tooFew = [a.delivered, b.delivered].some((n) => n * pooled < MIN_EXPECTED || n * (1 - pooled) < MIN_EXPECTED);
  if (tooFew) return null;
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.delivered + 1 / b.delivered));
  const z = (b.clicked / b.delivered - a.clicked / a.delivered) / se;
  return { z, p: erfc(Math.abs(z) / Math.SQRT2) };
}

export function decideSubjectTest(arms: ArmFigures[], confidence: number): Decision {
  if (arms.length < 2) throw new Error('a subject test needs at least two arms');
  const alpha = (1 - confidence) / (arms.length - 1);
  const rates = arms.map((a) => ({ ...a, rate: a.delivered > 0 ? a.clicked / a.delivered : 0 }));
  const a = rates[0] as (typeof rates)[number];
  const comparisons: Comparison[] = rates.slice(1).map((b, i) => {
    const test = twoProportionZ(a, b);
    return { arm: i + 1, z: test?.z ?? null, p: test?.p ?? null, significant: test !== null && test.p < alpha && b.rate > a.rate };
  });
  const passed = comparisons.filter((c) => c.significant).sort((x, y) => (rates[y.arm] as ArmFigures & { rate: number }).rate - (rates[x.arm] as ArmFigures & { rate: number }).rate);
  const best = passed[0];
  const level = arms.length > 2 ? `${formatP(alpha)} (${formatP(1 - confidence)} shared by ${arms.length - 1} comparisons)` : formatP(alpha);
  let reason: string;
  if (best) {
    const w = rates[best.arm] as (typeof rates)[number];
    reason = `${armLetter(best.arm)}: ${percent(w.rate)} of ${count(w.delivered)} delivered clicked against ${percent(a.rate)} for A; a two-proportion z-test gives ${pText(best.p as number)} < ${level}`;
  } else {
    const each = comparisons.map((c) => {
      const b = rates[c.arm] as (typeof rates)[number];
      return `${armLetter(c.arm)} ${percent(b.rate)} of ${count(b.delivered)}, ${c.p === null ? 'too few clicks to test' : pText(c.p)}`;
    });
    reason = `no subject beat A at ${confidenceText(confidence)} (A ${percent(a.rate)} of ${count(a.delivered)}; ${each.join('; ')}): the first subject goes`;
  }
  return { winner: best?.arm ?? null, confidence, alpha, arms: rates, comparisons, reason };
}

/** The complementary error function (Numerical Recipes' erfcc, fractional error below 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** A p-value or level to two significant digits: 0.003, 0.025, 0.41. */
export function formatP(p: number): string {
  return Number(p.toPrecision(2)).toString();
}

/** "p = 0.003", or "p < 0.0001" below what two digits should claim. */
export function pText(p: number): string {
  return p < 0.0001 ? 'p < 0.0001' : `p = ${formatP(p)}`;
}

/** 0.95 → "95 %", 0.999 → "99.9 %". */
export function confidenceText(confidence: number): string {
  return `${Number((confidence * 100).toFixed(1))} %`;
}

export function percent(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)} %`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
