// Standard normal CDF and quantile for BCa intervals (double precision, no dependencies).

/**
 * Φ(x). For |x| < 3 Marsaglia's series (J. Stat. Softw. 11(4), 2004): Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/15 + …),
 * every term with the sign of x, so no cancellation inside the sum. In the tails the series would
 * lose the small probability to cancellation against ½, so there the continued fraction of Mills'
 * ratio, Φ(−t) = φ(t) / (t + 1/(t + 2/(t + 3/(t + …)))), keeps ≈ 1e-15 relative accuracy
 * (evaluated backwards from a fixed depth that converges for t ≥ 3).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= -3) return lowerTail(-x);
  if (x >= 3) return 1 - lowerTail(x);
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let i = 3; sum + term !== sum; i += 2) {
    term *= x2 / i;
    sum += term;
  }
  return 0.5 + sum * Math.exp(-0.5 * x2 - LOG_SQRT_2PI);
}

// ln √(2π)
const LOG_SQRT_2PI = 0.9189385332046728;

/** Φ(−t) for t ≥ 3 by Mills' ratio continued fraction. */
function lowerTail(t: number): number {
  if (t > 38.5) return 0; // below the smallest subnormal double
  let f = t;
  for (let k = 120; k >= 1; k--) f = t + k / f;
  return Math.exp(-0.5 * t * t - LOG_SQRT_2PI) / f;
}

// Acklam's rational approximation of Φ⁻¹ (relative error 1.15e-9), then one Halley step on normalCdf.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p): −Infinity at 0, +Infinity at 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  // upper half by symmetry: 1 − p is exact for p ≥ ½ (Sterbenz), and the refinement below then
  // works on the lower tail, where normalCdf has relative precision
  if (p > 0.5) return -normalQuantile(1 - p);
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  // Halley refinement; only where Φ is resolved to relative precision (|x| < 8)
  if (Math.abs(x) < 8) {
    const e = normalCdf(x) - p;
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}
