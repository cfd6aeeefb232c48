"use strict";
const { Pool } = require("pg");
const { createClient } = require("redis");

/** Shared connections from the add-on attachment URLs. */
exports.pool = () => new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
exports.redis = async () => {
  const client = createClient({ url: process.env.REDIS_URL });
  client.on("error", (err) => console.error(`redis: ${err.message}`));
  await client.connect();
  return client;
};
