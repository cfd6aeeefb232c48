"use strict";
// Release phase: runs once per release, before any dyno rolls. A failure stops the deploy.
const { pool } = require("./db");

(async () => {
  const db = pool();
  await db.query("CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), dyno text)");
  await db.query("CREATE TABLE IF NOT EXISTS jobs_done (id serial PRIMARY KEY, visit_id int NOT NULL, worker text, at timestamptz NOT NULL DEFAULT now())");
  console.log("release: schema ready");
  await db.end();
  if (process.env.FAIL_RELEASE === "1") {
    console.error("release: FAIL_RELEASE=1, failing on purpose");
    process.exit(3);
  }
})().catch((err) => {
  console.error(`release: ${err.message}`);
  process.exit(1);
});
