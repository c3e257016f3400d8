#!/usr/bin/python3
"""Fits the polynomial coefficients used by native/kernels/cpu/simd/vmath.h.

Run with Debian's interpreter (needs numpy and mpmath): /usr/bin/python3 tools/fit_vmath.py
Each fit is a weighted least-squares fit on Chebyshev nodes (close to minimax), done in
float64 against mpmath references; the script prints the coefficients (lowest degree first)
and the fit's own max relative error, which must sit well below float32's 6e-8.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def cheb_nodes(a, b, n):
    k = np.arange(n)
    return 0.5 * (a + b) + 0.5 * (b - a) * np.cos(np.pi * (k + 0.5) / n)


def fit(name, xs, basis_x, target, degree, weight):
    """Fits target ~= sum c_i * basis_x**i with relative weights; prints and returns c."""
    A = np.vander(basis_x, degree + 1, increasing=True) * weight[:, None]
    c, *_ = np.linalg.lstsq(A, target * weight, rcond=None)
    approx = np.polyval(c[::-1], basis_x)
    err = np.max(np.abs(approx - target) * weight)
    print(f"// {name}: degree {degree}, max weighted error {err:.3g}")
    print("    " + ", ".join(f"{v:.9e}f" for v in c))
    return c


def main():
    n = 4000
    # exp(r) = 1 + r + r^2 * P(r) on |r| <= ln2/2 ; P has degree 4. Weight: relative to r^2
    # terms is too strict near 0; we weight by r^2/exp(r) (the error's share of exp(r)).
    ln2h = float(mp.log(2)) / 2
    r = cheb_nodes(-ln2h, ln2h, n)
    r = r[np.abs(r) > 1e-6]
    tgt = np.array([float((mp.exp(mp.mpf(x)) - 1 - mp.mpf(x)) / mp.mpf(x) ** 2) for x in r])
    fit("exp: P(r), exp(r) = 1 + r + r^2 P(r)", r, r, tgt, 4, r**2 / np.exp(r))

    # tanh(x) = x + x^3 * T(x^2) on |x| <= 0.625 ; weight x^2 (error relative to x).
    x = cheb_nodes(1e-4, 0.625, n)
    tgt = np.array([float((mp.tanh(mp.mpf(v)) - mp.mpf(v)) / mp.mpf(v) ** 3) for v in x])
    fit("tanh: T(u), u = x^2", x, x * x, tgt, 5, x * x)

    # erfc(z) = t * exp(-z^2 + Q(t)), t = 1/(1 + z/2), z in [0, 10] -> t in [1/6, 1].
    z = cheb_nodes(0.0, 10.0, n)
    t = 1.0 / (1.0 + 0.5 * z)
    tgt = np.array([float(mp.log(mp.erfc(mp.mpf(v)) / mp.mpf(tt)) + mp.mpf(v) ** 2)
                    for v, tt in zip(z, t)])
    # The exponent's absolute error is the result's relative error: weight 1.
    fit("erfc: Q(t), erfc(z) = t exp(-z^2 + Q(t))", z, t, tgt, 11, np.ones_like(z))


if __name__ == "__main__":
    main()
