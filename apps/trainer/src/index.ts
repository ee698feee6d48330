// Library surface of the trainer (used by tests and the playground).
export {};
