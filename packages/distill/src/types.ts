// The adapter types are tensor-core's (docs/CONTRACTS.md): module path → { A, B, scaling }.
export type { DeltaMap, LowRankDelta } from '@tagi/tensor-core';
