// Public API of @tagi/hypernet.
export {};
