// Public API of @tagi/t5-model.
export {};
