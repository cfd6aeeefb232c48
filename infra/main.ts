// The Pulumi program entry named in Pulumi.yaml. `dynoform up` runs the same program inline.
import * as pulumi from "@pulumi/pulumi";
import { appProgram } from "./program";

// The language host runs this file from infra/; stack paths (source, procfile) are relative
// to the project root, the folder holding Pulumi.yaml.
export = appProgram(pulumi.runtime.getRootDirectory() || process.cwd());
