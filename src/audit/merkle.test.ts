import { describe, expect, it } from 'vitest';
import { consistencyProof, EMPTY_ROOT, Frontier, leafHash, subtreeRoot, verifyConsistency } from './merkle.js';

// The RFC 6962 reference inputs and tree heads used by Certificate Transparency's test suites.
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  Buffer.from(h, 'hex'),
);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`event ${i}`));

describe('Merkle tree (RFC 6962)', () => {
  it('computes the reference tree heads, by recursion and by frontier', () => {
    const f = new Frontier();
    const hashes = INPUTS.map((d) => leafHash(d));
    hashes.forEach((h, i) => {
      f.push(h);
      expect(f.root().toString('hex')).toBe(ROOTS[i]);
      expect(subtreeRoot(hashes.slice(0, i + 1)).toString('hex')).toBe(ROOTS[i]);
    });
    expect(new Frontier().root()).toEqual(EMPTY_ROOT);
  });

  it('a frontier restored from its stored form continues the same tree', () => {
    const all = leaves(77);
    for (const cut of [1, 2, 3, 31, 32, 33, 64, 76]) {
      const a = new Frontier();
      for (const h of all.slice(0, cut)) a.push(h);
      const b = new Frontier(a.size, a.hashes);
      for (const h of all.slice(cut)) b.push(h);
      expect(b.root()).toEqual(subtreeRoot(all));
    }
    expect(() => new Frontier(3, [leafHash('x')])).toThrow(/2 nodes/);
  });

  it('consistency proofs verify for every pair of sizes, and fail for a wrong root or a changed proof', () => {
    const all = leaves(40);
    const roots = all.map((_, i) => subtreeRoot(all.slice(0, i + 1)));
    for (let n = 1; n <= all.length; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(all.slice(0, n), m);
        const oldRoot = roots[m - 1] as Buffer;
        const newRoot = roots[n - 1] as Buffer;
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `${m} -> ${n}`).toBe(true);
        if (m === n) continue;
        expect(verifyConsistency(m, n, leafHash('forged'), newRoot, proof)).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, leafHash('forged'), proof)).toBe(false);
        const bent = proof.map((p, i) => (i === proof.length - 1 ? leafHash('bent') : p));
        expect(verifyConsistency(m, n, oldRoot, newRoot, bent)).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, newRoot, [])).toBe(false);
      }
    }
  });
});

describe('consistency proofs built in one pass', () => {
  it('ProofBuilder gives the same proof as the recursive definition', async () => {
    const { ProofBuilder, consistencyRanges } = await import('./merkle.js');
    const all = leaves(70);
    for (let n = 1; n <= all.length; n += 3)
      for (let m = 1; m <= n; m++) {
        const b = new ProofBuilder(consistencyRanges(m, n));
        for (const [i, h] of all.slice(0, n).entries()) b.push(i, h);
        expect(b.proof(), `${m} -> ${n}`).toEqual(consistencyProof(all.slice(0, n), m));
      }
  });
});
