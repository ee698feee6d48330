import type { UserConfig } from 'vitest/config';

export declare const workspaceAlias: { find: RegExp; replacement: string }[];
export declare function tagiVitestConfig(overrides?: UserConfig): UserConfig;
declare const config: UserConfig;
export default config;
