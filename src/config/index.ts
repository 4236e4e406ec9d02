export * from './config.schema';
export * from './config.loader';
export { ENV_VARS, CONFIG_FILE_ENV, type EnvVar } from './env-vars';
