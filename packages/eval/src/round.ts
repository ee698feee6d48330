/**
 * Python's `round(x, digits)` for floats: the decimal nearest to the EXACT binary value of x, ties
 * to even. `Number.prototype.toFixed` also works on the exact value but breaks ties upwards, so exact
 * ties (x·10^d an odd multiple of 1/2, e.g. 0.03125 at 4 digits) are resolved here explicitly.
 */
export function pythonRound(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`pythonRound: digits: expected an integer in [0, 20], got ${digits}`);
  }
  if (x === 0) return x;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a >= 1e21) return x; // toFixed switches to exponent form; such values have no fractional digits anyway
  const rounded = Number(a.toFixed(digits));
  // A tie means a = m / (2·10^d) exactly with m odd. That is a binary float only if 5^d divides m
  // (then m / (2·10^d) = (m / 5^d) / 2^(d+1) is exact and the comparison below is exact too);
  // without that test a non-tie such as 0.00015 (really 1.4999...e-4) would be taken for a tie.
  const scale = 10 ** digits;
  const twice = Math.round(a * 2 * scale);
  if (Number.isSafeInteger(twice) && twice % 2 === 1 && twice % 5 ** digits === 0 && twice / (2 * scale) === a) {
    const down = (twice - 1) / 2;
    const up = (twice + 1) / 2;
    const even = down % 2 === 0 ? down : up;
    return sign * (even / scale);
  }
  return sign * rounded;
}
