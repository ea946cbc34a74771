"""Offline derivation (sympy, NOT a darkscan dependency) of the closed form
darkscan.models.zprime.msq_mumu_zprime_reduced: sum |M|^2 of e+e- -> gamma* -> mu- mu+ Z'.

A small 4D Dirac-trace engine (trace recursion; gamma_nu S gamma^nu by the recursion
C(S a) = 2 a S - C(S) a, C() = 4) computes L_{mu rho} H^{mu rho} for both FSR diagrams with the
-g and the k k / M^2 parts of the polarisation sum; the k k part is shown to vanish, and the -g
part is written as a quadratic form in u = p1.q1 - p2.q1, v = p1.q2 - p2.q2 with coefficients
in y_i = 2 q_i.k + M^2. Run: python derive_mumu_zprime_me.py (about 10 s).
"""

import functools
import itertools

import sympy as sp

m, M, s = sp.symbols("m M s", positive=True)
VEC = ["p1", "p2", "q1", "q2", "k"]
MARK = {"MU", "RHO", "NU"}
dsym = {}


def d(a, b):
    a, b = sorted((a, b))
    if a == b:
        return {"p1": 0, "p2": 0, "q1": m**2, "q2": m**2, "k": M**2}[a]
    if (a, b) not in dsym:
        dsym[(a, b)] = sp.Symbol(a + b)
    return dsym[(a, b)]


@functools.cache
def tr(seq):
    n = len(seq)
    if n == 0:
        return sp.Integer(4)
    if n % 2:
        return sp.Integer(0)
    a0 = seq[0]
    rest = seq[1:]
    out = 0
    for j in range(len(rest)):
        out += (-1) ** j * d(a0, rest[j]) * tr(rest[:j] + rest[j + 1 :])
    return sp.expand(out)


def add(T, seq, c):
    T[seq] = T.get(seq, 0) + c


def contract_inner(S):
    """gamma_nu S gamma^nu as dict seq->coef (4D)."""
    if len(S) == 0:
        return {(): sp.Integer(4)}
    a = S[-1]
    R = S[:-1]
    out = {}
    add(out, (a,) + R, 2)
    for seq, c in contract_inner(R).items():
        add(out, seq + (a,), -c)
    return out


def contract_pair(T, mark):
    """Contract the two occurrences of `mark` in each (cyclic, traced) sequence."""
    out = {}
    for seq, c in T.items():
        idx = [i for i, x in enumerate(seq) if x == mark]
        assert len(idx) == 2, (seq, mark)
        i = idx[0]
        seq = seq[i:] + seq[:i]  # cyclic
        j = seq.index(mark, 1)
        X, Y = seq[1:j], seq[j + 1 :]
        for s2, c2 in contract_inner(X).items():
            add(out, s2 + Y, c * c2)
    return out


def rename(T, old, new):
    out = {}
    for seq, c in T.items():
        add(out, tuple(new if x == old else x for x in seq), c)
    return out


def mul(*factors):
    """factors: list of dict seq->coef; ordered product."""
    out = {(): sp.Integer(1)}
    for f in factors:
        new = {}
        for s1, c1 in out.items():
            for s2, c2 in f.items():
                add(new, s1 + s2, c1 * c2)
        out = new
    return out


def V(*terms):
    """linear combination: V(('q1',1),('k',1),(None,m))"""
    out = {}
    for name, c in terms:
        add(out, () if name is None else (name,), c)
    return out


G = lambda mk: {(mk,): 1}

D1, D2 = sp.symbols("D1 D2")


# muon current operator O^{nu}_{mu}; conjugate Obar^{sigma}_{rho}; use markers NU (nu), NU2 (sigma) then contract
def O(nu, mu):
    return [
        (mul(G(nu), V(("q1", 1), ("k", 1), (None, m)), G(mu)), 1 / D1),
        (mul(G(mu), V(("q2", -1), ("k", -1), (None, m)), G(nu)), 1 / D2),
    ]


def Obar(sg, rho):
    return [
        (mul(G(rho), V(("q1", 1), ("k", 1), (None, m)), G(sg)), 1 / D1),
        (mul(G(sg), V(("q2", -1), ("k", -1), (None, m)), G(rho)), 1 / D2),
    ]


def H_terms(pol):
    """pol='g': contract nu,sigma with -g; pol='kk': with k_nu k_sigma."""
    T = {}
    for (A, ca), (B, cb) in itertools.product(O("NU", "MU"), Obar("NU", "RHO")):
        prod = mul(V(("q1", 1), (None, m)), A, V(("q2", 1), (None, -m)), B)
        for seq, c in prod.items():
            add(T, seq, c * ca * cb)
    if pol == "g":
        T = contract_pair(T, "NU")
        T = {sq: -c for sq, c in T.items()}
    else:
        T = rename(T, "NU", "k")
    return T


def contract_lepton(T):
    """L^{mu rho} = Tr[p2 g^mu p1 g^rho] = 4 (p1^mu p2^rho + p2^mu p1^rho - g^{mu rho} p1.p2)."""
    out = {}
    for a, b in (("p1", "p2"), ("p2", "p1")):
        for seq, c in rename(rename(T, "MU", a), "RHO", b).items():
            add(out, seq, 4 * c)
    T2 = rename(T, "RHO", "MU")
    for seq, c in contract_pair(T2, "MU").items():
        add(out, seq, -4 * d("p1", "p2") * c)
    return out


def total(T):
    res = 0
    for seq, c in T.items():
        res += c * tr(seq)
    return res


def main():
    Hg = contract_lepton(H_terms("g"))
    Rg = sp.expand(total(Hg))
    Rk = total(contract_lepton(H_terms("kk")))
    S = {
        n: sp.Symbol(n)
        for n in ["p1p2", "kq1", "kq2", "p1q1", "p1q2", "p2q1", "p2q2", "q1q2", "kp1", "kp2"]
    }
    u, v, y1, y2 = sp.symbols("u v y1 y2")
    x1 = (y1 - M**2) / 2
    x2 = (y2 - M**2) / 2
    q1q2 = s / 2 - x1 - x2 - M**2 / 2 - m**2
    S1 = m**2 + q1q2 + x1
    S2 = m**2 + q1q2 + x2
    a = (S1 + u) / 2
    c = (S1 - u) / 2
    b = (S2 + v) / 2
    d_ = (S2 - v) / 2
    sub = {
        S["p1p2"]: s / 2,
        S["q1q2"]: q1q2,
        S["p1q1"]: a,
        S["p1q2"]: b,
        S["p2q1"]: c,
        S["p2q2"]: d_,
        S["kq1"]: x1,
        S["kq2"]: x2,
        S["kp1"]: s / 2 - a - b,
        S["kp2"]: s / 2 - c - d_,
        D1: y1,
        D2: y2,
    }
    print("k k / M^2 part after momentum conservation:", sp.simplify(sp.together(Rk.subs(sub))))
    R = sp.expand(Rg.subs(sub))
    P = sp.Poly(R, u, v)
    coef = {mon: sp.factor(sp.simplify(cf)) for mon, cf in zip(P.monoms(), P.coeffs())}
    for mon, cf in coef.items():
        print(f"u^{mon[0]} v^{mon[1]}:", cf)
    r1, r2 = 1 / y1, 1 / y2
    w = M**2 + 2 * m**2
    closed = 8 * s * (
        (4 * M**4 + 6 * M**2 * s + 2 * s**2) * r1 * r2
        - 2 * (2 * M**2 + 4 * m**2 + s) * (r1 + r2)
        + y1 * r2
        + y2 * r1
        - M**2 * (4 * m**2 + s) * (r1**2 + r2**2)
        - 8 * m**4 * (r1 + r2) ** 2
        - 2 * m**2 * s * (r1 - r2) ** 2
    ) + 32 * (
        (s * r1 * r2 - w * r2**2) * u**2
        + (s * r1 * r2 - w * r1**2) * v**2
        + 2 * w * r1 * r2 * u * v
    )
    full = sum(cf * u**i * v**j for (i, j), cf in coef.items())
    print("closed form in darkscan minus derived:", sp.simplify(closed - full))


if __name__ == "__main__":
    main()
