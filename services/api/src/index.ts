export { buildApp, type AppDeps } from "./app.ts";
export { loadApiConfig, type ApiConfig } from "./config.ts";
export { startApi } from "./main.ts";
