/** Node ids are labels on metrics and keys in the store: short, lowercase, no spaces. */
export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
