// Public API of @tagi/lora.
export {};
