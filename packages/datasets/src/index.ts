// Public API of @tagi/datasets.
export {};
