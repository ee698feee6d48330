// Public API of @tagi/tensor-core.
export {};
