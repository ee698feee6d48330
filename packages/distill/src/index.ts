// Public API of @tagi/distill.
export {};
