"use strict";
const { pool, redis } = require("./db");

let running = true;
process.on("SIGTERM", () => {
  console.log("worker: SIGTERM, stopping after the current job");
  running = false;
});

(async () => {
  const db = pool();
  const queue = await redis();
  console.log("worker: waiting for jobs");
  while (running) {
    const job = await queue.brPop("jobs", 1);
    if (!job) continue;
    await db.query("INSERT INTO jobs_done (visit_id, worker) VALUES ($1, $2)", [Number(job.element), process.env.DYNO]);
    console.log(`worker: processed visit ${job.element}`);
  }
  await queue.quit();
  await db.end();
  process.exit(0);
})().catch((err) => {
  console.error(`worker: ${err.message}`);
  process.exit(1);
});
