/** Where the collector listens unless told otherwise, and where agents and queries look for it. */
export const DEFAULT_GRPC_ADDRESS = "127.0.0.1:4317";
export const DEFAULT_HTTP_ADDRESS = "127.0.0.1:9464";
