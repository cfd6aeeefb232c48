import { missingEngines } from "./harness";

// Prints, as JSON, what keeps live tests from running (see engines.ts, which runs this file in a
// child process so that test files can decide synchronously).
missingEngines().then(
    (problems) => process.stdout.write(JSON.stringify(problems)),
    (err: Error) => process.stdout.write(JSON.stringify([`the engine check failed: ${err.message}`])),
);
