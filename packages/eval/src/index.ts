// Public API of @tagi/eval.
export {};
