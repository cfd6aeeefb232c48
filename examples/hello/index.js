"use strict";
const http = require("http");
const { pool, redis } = require("./db");

const db = pool();
let queue;

async function handle(req, res) {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end("ok\n");
  }
  if (req.url !== "/") {
    res.writeHead(404, { "content-type": "text/plain" });
    return res.end("not found\n");
  }
  const { rows } = await db.query("INSERT INTO visits (dyno) VALUES ($1) RETURNING id", [process.env.DYNO]);
  const visitId = rows[0].id;
  await queue.lPush("jobs", String(visitId));
  const count = (await db.query("SELECT count(*)::int AS n FROM visits")).rows[0].n;
  const done = (await db.query("SELECT count(*)::int AS n FROM jobs_done")).rows[0].n;
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`${process.env.GREETING || "Hello"} from ${process.env.DYNO}: visit ${count}, jobs done by workers ${done}\n`);
}

(async () => {
  queue = await redis();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(`web: ${err.message}`);
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("error\n");
    });
  });
  server.keepAliveTimeout = 65000;
  server.listen(process.env.PORT, () => console.log(`web: listening on ${process.env.PORT}`));
  // Heroku sends SIGTERM, then SIGKILL 30 s later: finish in-flight requests, then exit.
  process.on("SIGTERM", () => {
    console.log("web: SIGTERM, draining");
    server.close(() => Promise.all([db.end(), queue.quit()]).finally(() => process.exit(0)));
    server.closeIdleConnections();
  });
})().catch((err) => {
  console.error(`web: ${err.message}`);
  process.exit(1);
});
